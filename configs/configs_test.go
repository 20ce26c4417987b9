package configs_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sous-run/sous/internal/host/config"
	"github.com/sous-run/sous/internal/plugins/events-redisstream/stream"
	"github.com/sous-run/sous/internal/plugins/executor-bun/bunrt"
	"github.com/sous-run/sous/internal/plugins/executor-python/pyrt"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/driver"
	"github.com/sous-run/sous/internal/plugins/messaging-redis/queue"
	"github.com/sous-run/sous/internal/redisconn"
	"github.com/sous-run/sous/sdk/harness"
)

// parsers are the in-tree drivers' own config parsers, by kind and driver: what the
// plugin's Configure runs on plugins.<kind>.<driver>.
var parsers = map[string]func(t *testing.T, raw []byte) error{
	"messaging/codeq": func(t *testing.T, raw []byte) error {
		_, err := driver.ParseConfig(raw, t.TempDir())
		return err
	},
	"messaging/redis": func(_ *testing.T, raw []byte) error {
		c := queue.DefaultConfig()
		return redisconn.Parse(queue.Section, raw, &c)
	},
	"events/redisstream": func(_ *testing.T, raw []byte) error {
		c := stream.DefaultConfig()
		return redisconn.Parse(stream.Section, raw, &c)
	},
	"executor/bun": func(t *testing.T, raw []byte) error {
		_, err := harness.ParseConfig(bunrt.Runtime(), raw, t.TempDir())
		return err
	},
	"executor/python": func(t *testing.T, raw []byte) error {
		_, err := harness.ParseConfig(pyrt.Runtime(), raw, t.TempDir())
		return err
	},
}

// settings are the keys of plugins.<kind> that are not driver subtrees.
var settings = map[string][]string{
	"messaging": {"driver"},
	"events":    {"driver", "fallback"},
	"executor":  {"drivers"},
}

// checkFile loads file (plus overrides) and runs every driver subtree it holds through
// that driver's parser; it returns the loaded config.
func checkFile(t *testing.T, file string, overrides map[string]string) *config.Config {
	t.Helper()
	c, err := config.Load(config.Sources{File: file, Overrides: overrides})
	if err != nil {
		t.Fatalf("%s does not load: %v", file, err)
	}
	for kind, keys := range settings {
		sub, _ := c.Get("plugins." + kind).(map[string]any)
		for name := range sub {
			if slices.Contains(keys, name) {
				continue
			}
			parse, ok := parsers[kind+"/"+name]
			if !ok {
				t.Errorf("%s: plugins.%s.%s: no in-tree %s driver %q to check it against", file, kind, name, kind, name)
				continue
			}
			raw, _ := c.DriverConfig(kind, name)
			if err := parse(t, raw); err != nil {
				t.Errorf("%s: plugins.%s.%s is refused by the driver: %v", file, kind, name, err)
			}
		}
	}
	return c
}

func TestShippedConfigsValidate(t *testing.T) {
	cases := []struct {
		file      string
		overrides map[string]string // what the file's header says to pass on the command line
		role      string
		messaging string
		events    string
	}{
		{"sous.yaml", nil, "all", "codeq", "embedded"},
		{"redis.yaml", nil, "control", "redis", "redisstream"},
		{"codeq.yaml", map[string]string{
			"plugins.messaging.codeq.producer_token": "producer-jwt",
			"plugins.messaging.codeq.worker_token":   "worker-jwt",
		}, "control", "codeq", "redisstream"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			c := checkFile(t, tc.file, tc.overrides)
			if c.Role != tc.role || c.Plugins.Messaging.Driver != tc.messaging || c.Plugins.Events.Driver != tc.events {
				t.Errorf("role %q messaging %q events %q; want %q %q %q",
					c.Role, c.Plugins.Messaging.Driver, c.Plugins.Events.Driver, tc.role, tc.messaging, tc.events)
			}
			if got := strings.Join(c.Plugins.Executor.Drivers, ","); got != "bun,python" {
				t.Errorf("executors %q, want bun,python", got)
			}
		})
	}
}

// TestCodeqNeedsTokens: codeq.yaml ships without secrets; the driver names what to set.
func TestCodeqNeedsTokens(t *testing.T) {
	c, err := config.Load(config.Sources{File: "codeq.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := c.DriverConfig("messaging", "codeq")
	if err := parsers["messaging/codeq"](t, raw); err == nil || !strings.Contains(err.Error(), "producer_token") {
		t.Fatalf("codeq.yaml without tokens: error %v, want one naming producer_token", err)
	}
}

// TestSousYAMLSwitchesToRedisByOneLine is the README's "switch to Redis": only the
// messaging driver line changes, and the redis subtree that was ignored is now used.
func TestSousYAMLSwitchesToRedisByOneLine(t *testing.T) {
	b, err := os.ReadFile("sous.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	changed := 0
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "driver: codeq") {
			lines[i] = strings.Replace(l, "driver: codeq", "driver: redis", 1)
			changed++
		}
	}
	if changed != 1 {
		t.Fatalf("sous.yaml has %d lines `driver: codeq`, want exactly 1", changed)
	}
	file := filepath.Join(t.TempDir(), "sous.yaml")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	c := checkFile(t, file, nil)
	if c.Plugins.Messaging.Driver != "redis" || c.Plugins.Events.Driver != "embedded" || c.Role != "all" {
		t.Fatalf("after the edit: role %q messaging %q events %q", c.Role, c.Plugins.Messaging.Driver, c.Plugins.Events.Driver)
	}
	raw, _ := c.DriverConfig("messaging", "redis")
	q := queue.DefaultConfig()
	err = redisconn.Parse(queue.Section, raw, &q)
	if err != nil || q.URL != "redis://127.0.0.1:6379/0" {
		t.Fatalf("redis driver config %s: url %q, %v", raw, q.URL, err)
	}
}

// TestTypoInDriverSubtreeFails proves checkFile catches a misspelt driver key, which
// internal/host/config alone accepts (driver subtrees belong to the plugin).
func TestTypoInDriverSubtreeFails(t *testing.T) {
	b, err := os.ReadFile("redis.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(b), "      prefix: sous            # stream keys", "      prefx: sous            # stream keys", 1)
	if bad == string(b) {
		t.Fatal("redis.yaml changed: the events prefix line this test misspells is gone")
	}
	file := filepath.Join(t.TempDir(), "redis.yaml")
	if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(config.Sources{File: file})
	if err != nil {
		t.Fatalf("internal/host/config should leave driver keys to the driver: %v", err)
	}
	raw, _ := c.DriverConfig("events", "redisstream")
	if err := parsers["events/redisstream"](t, raw); err == nil || !strings.Contains(err.Error(), "prefx") {
		t.Fatalf("misspelt key: error %v, want one naming prefx", err)
	}
}
