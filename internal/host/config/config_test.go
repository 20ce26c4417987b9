package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustFail(t *testing.T, s Sources, wants ...string) {
	t.Helper()
	_, err := Load(s)
	if err == nil {
		t.Fatalf("Load succeeded; want an error containing %q", wants)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

func TestDefaults(t *testing.T) {
	c, err := Load(Sources{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Role != "all" || c.HTTP.Addr != "127.0.0.1:8080" || c.Plugins.Messaging.Driver != "codeq" ||
		c.Plugins.Events.Driver != "embedded" || strings.Join(c.Plugins.Executor.Drivers, ",") != "bun,python" ||
		c.Worker.Concurrency != 8 || c.Invoke.IdleTimeout != 90*time.Second || c.Invoke.IdempotencyTTL != 24*time.Hour ||
		c.Limits.MaxResultBytes != 3145728 || c.LeaseDuration() != 30*time.Second {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	// Plugins get half the host's Ps (at least 1), the embedded broker too, and a driver
	// set to 0 the plugins' value.
	half := max(1, runtime.GOMAXPROCS(0)/2)
	if got := c.DriverProcs("executor", "bun"); got != half {
		t.Fatalf("executor-bun GOMAXPROCS %d, want %d", got, half)
	}
	if got := c.DriverProcs("messaging", "codeq"); got != half {
		t.Fatalf("embedded codeq GOMAXPROCS %d, want %d", got, half)
	}
	remote, err := Load(Sources{Overrides: map[string]string{"plugins.messaging.codeq.gomaxprocs": "0"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := remote.DriverProcs("messaging", "codeq"); got != half {
		t.Fatalf("codeq at gomaxprocs 0: %d, want the plugins' %d", got, half)
	}
}

func TestPrecedenceFileEnvOverrides(t *testing.T) {
	f := writeFile(t, "sous.yaml", `
role: worker
log_level: debug
worker: {concurrency: 2, lease_seconds: 10}
plugins:
  messaging: {driver: redis, redis: {url: "redis://127.0.0.1:1/0", pool: 4}}
invoke: {idle_timeout: 5s}
`)
	env := []string{"SOUS_WORKER__LEASE_SECONDS=20", "SOUS_LOG_LEVEL=warn", "SOUS_PLUGINS__MESSAGING__REDIS__POOL=9",
		"SOUS_BIN_DIR=/ignored", "PATH=/bin"}
	c, err := Load(Sources{File: f, Env: env, Overrides: map[string]string{"log_level": "error", "plugins.messaging.redis.tls": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Role != "worker" || c.Worker.Concurrency != 2 { // file over defaults
		t.Errorf("file layer lost: role %q concurrency %d", c.Role, c.Worker.Concurrency)
	}
	if c.Worker.LeaseSeconds != 20 { // env over file
		t.Errorf("lease_seconds %d, want 20 from env", c.Worker.LeaseSeconds)
	}
	if c.LogLevel != "error" { // overrides over env over file
		t.Errorf("log_level %q, want error from --set", c.LogLevel)
	}
	if c.Invoke.IdleTimeout != 5*time.Second || c.Invoke.TotalTimeout != 5*time.Minute {
		t.Errorf("durations %v %v", c.Invoke.IdleTimeout, c.Invoke.TotalTimeout)
	}
	js, path := c.DriverConfig("messaging", "redis")
	if want := `{"pool":9,"tls":true,"url":"redis://127.0.0.1:1/0"}`; string(js) != want || path != "" {
		t.Errorf("DriverConfig = %s %q, want %s", js, path, want)
	}
	if got := c.Source("worker.lease_seconds"); got != "env SOUS_WORKER__LEASE_SECONDS" {
		t.Errorf("Source = %q", got)
	}
}

func TestEnvListAndNesting(t *testing.T) {
	c, err := Load(Sources{Env: []string{"SOUS_PLUGINS__EXECUTOR__DRIVERS=python, bun", "SOUS_PLUGINS__MESSAGING__DRIVER=redis"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Plugins.Executor.Drivers, ",") != "python,bun" || c.Plugins.Messaging.Driver != "redis" {
		t.Fatalf("got %v %q", c.Plugins.Executor.Drivers, c.Plugins.Messaging.Driver)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name  string
		s     Sources
		wants []string
	}{
		{"bad role", Sources{Overrides: map[string]string{"role": "both"}},
			[]string{`role: "both" is not allowed; use all, control or worker`, "--set role"}},
		{"unknown top key", Sources{File: writeFile(t, "a.yaml", "rolle: all\n")},
			[]string{"unknown key rolle", "a.yaml", "known top-level keys"}},
		{"unknown nested key from env", Sources{Env: []string{"SOUS_WORKER__CONCURENCY=3"}},
			[]string{"unknown key worker.concurency", "concurrency", "env SOUS_WORKER__CONCURENCY"}},
		{"unknown key via --set", Sources{Overrides: map[string]string{"http.adr": "x"}},
			[]string{"unknown key http.adr", "addr"}},
		{"scalar under plugins kind", Sources{File: writeFile(t, "b.yaml", "plugins: {messaging: {drvier: redis}}\n")},
			[]string{"unknown key plugins.messaging.drvier", "driver"}},
		{"map where a value belongs", Sources{File: writeFile(t, "c.yaml", "role: {a: 1}\n")},
			[]string{"role", "single value"}},
		{"value where a map belongs", Sources{File: writeFile(t, "d.yaml", "worker: 3\n")},
			[]string{"worker: must be a map", "concurrency"}},
		{"malformed yaml", Sources{File: writeFile(t, "bad.yaml", "role: all\nhttp:\n  addr: [1,\n")},
			[]string{"bad.yaml", "line"}},
		{"missing file", Sources{File: "/nonexistent/sous.yaml"}, []string{"/nonexistent/sous.yaml"}},
		{"not a number", Sources{Env: []string{"SOUS_WORKER__CONCURRENCY=many"}},
			[]string{"worker.concurrency", `"many" is not a whole number`, "SOUS_WORKER__CONCURRENCY"}},
		{"bad duration", Sources{Overrides: map[string]string{"invoke.idle_timeout": "soon"}},
			[]string{"invoke.idle_timeout", "duration"}},
		{"zero concurrency", Sources{Overrides: map[string]string{"worker.concurrency": "0"}},
			[]string{"worker.concurrency: 0 is not allowed; use a number above 0"}},
		{"default above max timeout", Sources{Overrides: map[string]string{"limits.default_timeout_ms": "900000"}},
			[]string{"limits.default_timeout_ms", "max_timeout_ms"}},
		{"bad algorithm", Sources{Overrides: map[string]string{"auth.algorithm": "none"}},
			[]string{"auth.algorithm", "HS256, RS256 or ES256"}},
		{"bad addr", Sources{Overrides: map[string]string{"http.addr": "8080"}}, []string{"http.addr", "host:port"}},
		{"unknown messaging driver", Sources{Overrides: map[string]string{"plugins.messaging.driver": "kafka"}},
			[]string{`plugins.messaging.driver: "kafka" is not a known messaging driver`, "codeq or redis", "sous-plugin-messaging-kafka"}},
		{"unknown executor", Sources{Env: []string{"SOUS_PLUGINS__EXECUTOR__DRIVERS=bun,ruby"}},
			[]string{`"ruby" is not a known executor driver`, "bun or python"}},
		{"negative plugin GOMAXPROCS", Sources{Overrides: map[string]string{"plugins.gomaxprocs": "-1"}},
			[]string{"plugins.gomaxprocs: -1 is not allowed", "half the CPUs"}},
		{"negative driver GOMAXPROCS", Sources{Overrides: map[string]string{"plugins.messaging.codeq.gomaxprocs": "-2"}},
			[]string{"plugins.messaging.codeq.gomaxprocs: -2", "is not allowed"}},
		{"gc floor past its bound", Sources{Overrides: map[string]string{"gc_floor_mb": "5000"}},
			[]string{"gc_floor_mb: 5000 is not allowed", "0 (no floor) to 4096 MiB"}},
		{"bad fallback", Sources{Overrides: map[string]string{"plugins.events.fallback": "maybe"}},
			[]string{"plugins.events.fallback", "none or inline"}},
		{"env key with __ and unknown top", Sources{Env: []string{"SOUS_WROKER__ID=x"}}, []string{"unknown key wroker.id"}},
		{"bad inherit_env", Sources{File: writeFile(t, "e.yaml", "plugins: {messaging: {driver: redis, redis: {inherit_env: [AWS_REGION, \"no-dash\"]}}}\n")},
			[]string{"plugins.messaging.redis.inherit_env", "e.yaml", "environment variable names"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { mustFail(t, tc.s, tc.wants...) })
	}
}

func TestDriverFoundInPluginsDirOrByPath(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "sous-plugin-events-memory")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Sources{Overrides: map[string]string{"plugins.dir": dir, "plugins.events.driver": "memory"}})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := c.PluginPath("events", "memory"); err != nil || p != bin {
		t.Fatalf("PluginPath = %q, %v", p, err)
	}
	short := filepath.Join(dir, "sous-plugin-short")
	if err := os.WriteFile(short, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err = Load(Sources{Overrides: map[string]string{"plugins.dir": dir, "plugins.messaging.driver": "short"}})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := c.PluginPath("messaging", "short"); err != nil || p != short {
		t.Fatalf("PluginPath(short) = %q, %v", p, err)
	}
	other := filepath.Join(t.TempDir(), "my-events")
	c, err = Load(Sources{Overrides: map[string]string{"plugins.events.driver": "mine", "plugins.events.mine.path": other}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.DriverInheritEnv("events", "mine"); len(got) != 0 {
		t.Fatalf("DriverInheritEnv without a setting = %v", got)
	}
	withEnv, err := Load(Sources{File: writeFile(t, "f.yaml", "plugins: {events: {driver: mine, mine: {path: /x, inherit_env: [AWS_REGION, TOKEN_FILE], max: 3}}}\n")})
	if err != nil {
		t.Fatal(err)
	}
	if got := withEnv.DriverInheritEnv("events", "mine"); strings.Join(got, ",") != "AWS_REGION,TOKEN_FILE" {
		t.Fatalf("DriverInheritEnv = %v", got)
	}
	if js, _ := withEnv.DriverConfig("events", "mine"); string(js) != `{"max":3}` {
		t.Fatalf("the plugin must not receive the host's keys: %s", js)
	}
	if _, err := c.PluginPath("events", "mine"); err == nil || !strings.Contains(err.Error(), other) {
		t.Fatalf("missing binary error should name %s: %v", other, err)
	}
	if _, err := c.PluginPath("messaging", "redis"); err == nil || !strings.Contains(err.Error(), "sous-plugin-messaging-redis") {
		t.Fatalf("missing in-tree binary error should name it: %v", err)
	}
}

func TestClusterBlock(t *testing.T) {
	_, err := Load(Sources{Overrides: map[string]string{"cluster.node_id": "n1", "cluster.raft_addr": "127.0.0.1:7001",
		"cluster.bootstrap": "true", "cluster.join": "http://127.0.0.1:8081"}})
	if err == nil || !strings.Contains(err.Error(), "not both") || !strings.Contains(err.Error(), "cluster.tls") || !strings.Contains(err.Error(), "auth.hs256_key") {
		t.Fatalf("incomplete cluster block: %v", err)
	}
	c, err := Load(Sources{Overrides: map[string]string{"cluster.node_id": "n1", "cluster.raft_addr": "127.0.0.1:7001", "cluster.bootstrap": "true",
		"cluster.tls.ca_file": "ca.pem", "cluster.tls.cert_file": "n1.pem", "cluster.tls.key_file": "n1-key.pem", "auth.hs256_key": "k"}})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Cluster.Enabled() || !c.Cluster.Bootstrap || c.Cluster.TrailingLogs != 10240 {
		t.Fatalf("cluster %+v", c.Cluster)
	}
	if _, err := Load(Sources{Overrides: map[string]string{"cluster.bootstrap": "maybe"}}); err == nil || !strings.Contains(err.Error(), "true or false") {
		t.Fatalf("bool check: %v", err)
	}
}
