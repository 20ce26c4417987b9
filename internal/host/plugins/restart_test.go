package plugins

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

func TestSIGKILLedPluginIsRestartedAndInFlightCallsFailClearly(t *testing.T) {
	m := start(t, load(t, memoryEvents(t, pluginDir(t, "messaging-fake"), exampleEvents(t))))
	ctx := context.Background()
	ev := m.Events() // obtained once; must keep working across the restart
	if _, err := publish(ctx, t, ev, "before", envelope.Done()); err != nil {
		t.Fatal(err)
	}
	// An in-flight call: a following Read that is waiting for events.
	readErr := make(chan error, 1)
	go func() { readErr <- ev.Read(ctx, "t", "waiting", "", true, func(sdk.Event) error { return nil }) }()
	waitFor(t, "the Read to be waiting", func() bool { return statusOf(m, "events-memory").Details["invocations"] == "2" })
	old := statusOf(m, "events-memory").Pid
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := <-readErr
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "plugin events-memory exited") {
		t.Fatalf("in-flight Read ended with %v, want Unavailable \"plugin events-memory exited\"", err)
	}
	waitFor(t, "the plugin to be restarted", func() bool {
		s := statusOf(m, "events-memory")
		return s.Healthy && s.Restarts == 1 && s.Pid != old
	})
	if alive(old) {
		t.Errorf("old plugin pid %d still alive", old)
	}
	ids, err := publish(ctx, t, ev, "after", envelope.Done())
	if err != nil || len(ids) != 1 {
		t.Fatalf("call after restart: %v %v", ids, err)
	}
}

func TestCallsWhileDownSayRestartingAndRestartRetries(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "events-memory")
	link(t, exampleEvents(t), bin)
	m := start(t, load(t, memoryEvents(t, pluginDir(t, "messaging-fake"), bin)))
	ctx := context.Background()
	old := statusOf(m, "events-memory").Pid
	hidden := bin + ".away"
	if err := os.Rename(bin, hidden); err != nil { // relaunch will fail until it is back
		t.Fatal(err)
	}
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a failed restart", func() bool {
		return strings.Contains(statusOf(m, "events-memory").Reason, "restart failed")
	})
	_, err := publish(ctx, t, m.Events(), "x", envelope.Done())
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "plugin events-memory is restarting: restart failed") {
		t.Fatalf("call while down: %v", err)
	}
	if err := m.Ready(ctx); err == nil || !strings.Contains(err.Error(), "events-memory") {
		t.Fatalf("Ready while down: %v", err)
	}
	if err := os.Rename(hidden, bin); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the restart to succeed", func() bool { return statusOf(m, "events-memory").Healthy })
	if _, err := publish(ctx, t, m.Events(), "x", envelope.Done()); err != nil {
		t.Fatalf("call after recovery: %v", err)
	}
}

func TestCloseKillsPluginsAndTheirChildren(t *testing.T) {
	m := start(t, load(t, map[string]string{"plugins.dir": pluginDir(t, "messaging-with-child"), "plugins.messaging.driver": "with-child"}))
	s := statusOf(m, "messaging-with-child")
	child := atoi(t, s.Details["child"])
	if !alive(s.Pid) || !alive(child) {
		t.Fatalf("plugin %d / child %d not running", s.Pid, child)
	}
	m.Close()
	waitFor(t, "plugin and its child to be gone", func() bool { return !alive(s.Pid) && !alive(child) })
	if _, err := m.Messaging().Stats(context.Background(), "", nil); status.Code(err) != codes.Unavailable {
		t.Fatalf("call after Close: %v", err)
	}
}

func TestHungPluginIsKilledAndRestarted(t *testing.T) {
	every, timeout := healthEvery, healthTimeout
	healthEvery, healthTimeout = 20*time.Millisecond, 50*time.Millisecond
	defer func() { healthEvery, healthTimeout = every, timeout }()
	m := New(load(t, map[string]string{"plugins.dir": pluginDir(t, "messaging-hang-health"), "plugins.messaging.driver": "hang-health"}), testLogger())
	defer m.Close()
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	i := m.all[0]
	first := i.pid()
	waitFor(t, "the hung plugin to be killed and restarted", func() bool {
		i.mu.Lock()
		defer i.mu.Unlock()
		return i.restarts >= 1
	})
	if alive(first) {
		t.Errorf("hung plugin pid %d still alive", first)
	}
	m.Close() // before the deferred restore of the probe settings
}
