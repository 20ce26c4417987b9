package plugins

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/host/config"
	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// testPlugin returns the test plugin binary (see internal/testplugin).
func testPlugin(t testing.TB) string {
	return testenv.Binary(t, "internal/host/plugins/internal/testplugin", "sous-testplugin")
}

// exampleEvents returns the events-memory example plugin binary.
func exampleEvents(t testing.TB) string {
	return testenv.Binary(t, "examples/plugins/events-memory", "events-memory")
}

// pluginDir makes a plugins dir holding the test plugin under each sous-plugin-<name>.
func pluginDir(t testing.TB, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		link(t, testPlugin(t), filepath.Join(dir, "sous-plugin-"+n))
	}
	return dir
}

// link hard-links (or copies) a binary to dst.
func link(t testing.TB, src, dst string) {
	t.Helper()
	if err := os.Link(src, dst); err == nil {
		return
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// load builds a config from defaults plus overrides; executors default to none so a
// test launches only what it names.
func load(t testing.TB, set map[string]string) *config.Config {
	t.Helper()
	all := map[string]string{"data_dir": t.TempDir(), "plugins.executor.drivers": ""}
	for k, v := range set {
		all[k] = v
	}
	c, err := config.Load(config.Sources{Overrides: all})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testLogger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "host", Output: os.Stderr, Level: hclog.Warn})
}

// start launches the manager and closes it when the test ends.
func start(t testing.TB, c *config.Config) *Manager {
	t.Helper()
	m := New(c, testLogger())
	t.Cleanup(m.Close)
	if err := m.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return m
}

// memoryEvents is a config using the example plugin as events driver "memory".
func memoryEvents(t testing.TB, msgDir string, path string) map[string]string {
	return map[string]string{"plugins.dir": msgDir, "plugins.messaging.driver": "fake",
		"plugins.events.driver": "memory", "plugins.events.memory.path": path}
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func statusOf(m *Manager, name string) Status {
	for _, s := range m.Status(context.Background()) {
		if s.Name == name {
			return s
		}
	}
	return Status{}
}

func envJSON(t testing.TB, e *envelope.Envelope) []byte {
	b, err := envelope.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func publish(ctx context.Context, t testing.TB, ev sdk.EventLog, inv string, es ...*envelope.Envelope) ([]string, error) {
	var envs [][]byte
	for _, e := range es {
		envs = append(envs, envJSON(t, e))
	}
	return ev.Publish(ctx, "t", inv, envs...)
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	rest := s[strings.LastIndexByte(s, ')')+1:]
	f := strings.Fields(rest)
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a pid: %q", s)
	}
	return n
}
