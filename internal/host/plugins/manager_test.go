package plugins

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

func TestStartCallsAndStatus(t *testing.T) {
	dir := pluginDir(t, "messaging-fake", "executor-fake")
	m := start(t, load(t, map[string]string{"plugins.dir": dir, "plugins.messaging.driver": "fake",
		"plugins.executor.drivers": "fake", "plugins.events.driver": "memory", "plugins.events.memory.path": exampleEvents(t),
		"plugins.events.memory.max_events": "50"}))
	ctx := context.Background()
	if err := m.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	st := m.Status(ctx)
	if len(st) != 3 {
		t.Fatalf("Status has %d entries, want 3: %+v", len(st), st)
	}
	for _, s := range st {
		if !s.Healthy || s.Pid == 0 || len(s.APIVersions) == 0 || s.PluginVersion == "" {
			t.Errorf("status %+v", s)
		}
	}
	if st[1].Path != exampleEvents(t) || st[1].PluginVersion != "0.1.0" {
		t.Errorf("events status %+v", st[1])
	}
	ev := m.Events()
	ids, err := publish(ctx, t, ev, "inv1", &envelope.Envelope{Type: envelope.TypeChunk, Seq: 1, Data: []byte(`"a"`)}, envelope.Done())
	if err != nil || strings.Join(ids, ",") != "1,2" {
		t.Fatalf("Publish = %v, %v", ids, err)
	}
	var read []string
	err = ev.Read(ctx, "t", "inv1", "1", true, func(e sdk.Event) error { read = append(read, e.ID); return nil })
	if err != nil || strings.Join(read, ",") != "2" {
		t.Fatalf("Read after 1 = %v, %v (want 2, then the end after done)", read, err)
	}
	// The configured max_events reached the plugin: a 51st event is refused.
	big := make([]*envelope.Envelope, 51)
	for n := range big {
		big[n] = &envelope.Envelope{Type: envelope.TypeLog, Stream: "stdout", Text: "x"}
	}
	if _, err := publish(ctx, t, ev, "inv2", big...); !errors.Is(err, sdk.ErrExhausted) {
		t.Fatalf("max_events not applied: %v", err)
	}
	// Messaging calls reach the fake plugin (which implements none of them).
	if _, err := m.Messaging().Stats(ctx, "", nil); !errors.Is(err, sdk.ErrUnsupported) {
		t.Fatalf("Messaging().Stats = %v, want Unimplemented from the plugin", err)
	}
	if _, err := m.Executor("fake"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Executor("ruby"); err == nil || !strings.Contains(err.Error(), `"ruby"`) {
		t.Fatalf("Executor(ruby) = %v", err)
	}
}

func TestControlRoleSkipsExecutorsAndEmbeddedEvents(t *testing.T) {
	dir := pluginDir(t, "messaging-fake", "executor-fake")
	m := start(t, load(t, map[string]string{"role": "control", "plugins.dir": dir, "plugins.messaging.driver": "fake",
		"plugins.executor.drivers": "fake"}))
	if st := m.Status(context.Background()); len(st) != 1 || st[0].Name != "messaging-fake" {
		t.Fatalf("control role launched %+v", st)
	}
	if m.Events() != nil {
		t.Fatal("Events() should be nil for the embedded driver")
	}
	if _, err := m.Executor("fake"); err == nil {
		t.Fatal("control role should have no executor")
	}
}

func TestConfigChangeSwapsDriver(t *testing.T) {
	dir := pluginDir(t, "messaging-fake", "events-alpha")
	for _, tc := range []struct{ driver, path, version string }{
		{"alpha", filepath.Join(dir, "sous-plugin-events-alpha"), "9.9.9"},
		{"memory", exampleEvents(t), "0.1.0"},
	} {
		set := memoryEvents(t, dir, exampleEvents(t))
		set["plugins.events.driver"] = tc.driver
		m := start(t, load(t, set))
		s := statusOf(m, "events-"+tc.driver)
		if !s.Healthy || s.Path != tc.path || s.PluginVersion != tc.version {
			t.Errorf("driver %s: status %+v, want path %s version %s", tc.driver, s, tc.path, tc.version)
		}
		if _, err := publish(context.Background(), t, m.Events(), "i", envelope.Done()); err != nil {
			t.Errorf("driver %s: Publish: %v", tc.driver, err)
		}
		m.Close()
	}
}

func TestRefusals(t *testing.T) {
	dir := pluginDir(t, "messaging-fake", "events-liar-kind", "events-old-api", "events-new-handshake",
		"events-wrong-driver", "events-bad-config")
	bin := func(d string) string { return filepath.Join(dir, "sous-plugin-events-"+d) }
	missing := filepath.Join(t.TempDir(), "no-such-plugin")
	for _, tc := range []struct {
		driver string
		extra  map[string]string
		wants  []string
	}{
		{"liar-kind", nil, []string{bin("liar-kind"), `is a "messaging" plugin`, `expected kind "events"`}},
		{"old-api", nil, []string{bin("old-api"), "supports API versions [99]", "host needs 1"}},
		{"new-handshake", nil, []string{bin("new-handshake"), "version"}},
		{"wrong-driver", nil, []string{bin("wrong-driver"), `reports driver "someone-else", expected "wrong-driver"`}},
		{"bad-config", map[string]string{"plugins.events.bad-config.url": ""}, []string{bin("bad-config"), "plugins.events.bad-config rejected", "url is required"}},
		{"gone", map[string]string{"plugins.events.gone.path": missing}, []string{missing, "does not exist"}},
	} {
		t.Run(tc.driver, func(t *testing.T) {
			set := map[string]string{"plugins.dir": dir, "plugins.messaging.driver": "fake", "plugins.events.driver": tc.driver}
			for k, v := range tc.extra {
				set[k] = v
			}
			m := New(load(t, set), testLogger())
			defer m.Close()
			err := m.Start(context.Background())
			if err == nil {
				t.Fatal("Start succeeded")
			}
			t.Logf("refused: %v", err)
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			s := statusOf(m, "events-"+tc.driver)
			if s.Healthy || s.Reason == "" {
				t.Errorf("status of refused plugin: %+v", s)
			}
			if !statusOf(m, "messaging-fake").Healthy {
				t.Error("the good plugin should still be up")
			}
			if err := m.Events().Expire(context.Background(), "", "x", 0); status.Code(err) != codes.Unavailable ||
				!strings.Contains(err.Error(), "plugin events-"+tc.driver+" is not running") {
				t.Errorf("call to the refused plugin: %v", err)
			}
		})
	}
}

func TestMissingBinaryInPluginsDir(t *testing.T) {
	dir := pluginDir(t, "messaging-fake")
	c := load(t, map[string]string{"plugins.dir": dir, "plugins.messaging.driver": "fake"})
	c.Plugins.Messaging.Driver = "redis" // built in, but not built into this dir
	err := New(c, testLogger()).Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "sous-plugin-messaging-redis")) {
		t.Fatalf("error should name the missing binary: %v", err)
	}
}

func TestStatusReportsHealthDetails(t *testing.T) {
	m := start(t, load(t, map[string]string{"plugins.dir": pluginDir(t, "messaging-fake"), "plugins.messaging.driver": "fake"}))
	s := statusOf(m, "messaging-fake")
	if s.Details["pid"] == "" || s.Details["pid"] != strconv.Itoa(s.Pid) {
		t.Fatalf("status %+v: Health details should carry the plugin's pid %d", s, s.Pid)
	}
}
