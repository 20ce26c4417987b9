package harness

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var testRT = &Runtime{Name: "bun", ConfigKey: "bun"}

func TestParseConfigDefaults(t *testing.T) {
	c, err := ParseConfig(testRT, []byte(`{"bun":"/x/bun"}`), "/data")
	if err != nil {
		t.Fatal(err)
	}
	if c.CacheDir != filepath.Join("/data", "executor-bun") || c.Interpreter != "/x/bun" ||
		c.MaxProcesses != 8 || c.IdleTTL != 5*time.Minute || c.Defaults != DefaultLimits {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestParseConfigValues(t *testing.T) {
	c, err := ParseConfig(testRT, []byte(`{"cache_dir":"/c","idle_ttl_ms":250,"max_processes":2,"default_timeout_ms":5,"default_max_log_bytes":7}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.CacheDir != "/c" || c.IdleTTL != 250*time.Millisecond || c.MaxProcesses != 2 || c.Defaults.TimeoutMS != 5 || c.Defaults.MaxLogBytes != 7 {
		t.Fatalf("values: %+v", c)
	}
}

func TestParseConfigErrorsNameTheKey(t *testing.T) {
	for raw, want := range map[string]string{
		`{"pyhton":"x"}`:          `unknown key "pyhton"`,
		`{"max_processes":0}`:     "max_processes must be >= 1",
		`{"idle_ttl_ms":-1}`:      "idle_ttl_ms must be > 0",
		`{"max_processes":"two"}`: `key "max_processes"`,
		`{"default_memory_mb":0}`: "default_memory_mb must be > 0",
		`[1]`:                     "not a JSON object",
		`{"sandbox":"maybe"}`:     "sandbox must be auto, required or none",
		`{"max_pids":2}`:          "max_pids must be >= 8",
		`{"max_cpus":0}`:          "max_cpus must be between 0.01 and 1024",
		`{"sandbox_uid":0}`:       "sandbox_uid must be an unprivileged uid",
	} {
		_, err := ParseConfig(testRT, []byte(raw), "/data")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want error containing %q, got %v", raw, want, err)
		}
	}
	if _, err := ParseConfig(testRT, nil, ""); err == nil || !strings.Contains(err.Error(), "cache_dir") {
		t.Errorf("no cache_dir and no data dir: got %v", err)
	}
}

func TestFunctionEnv(t *testing.T) {
	env := functionEnv(map[string]string{"A": "1", "HOME": "/evil", "TMPDIR": "/evil"}, "/h", "/t")
	got := strings.Join(env, " ")
	if got != "A=1 PATH="+BasePath+" HOME=/h TMPDIR=/t" {
		t.Fatalf("env: %s", got)
	}
	if got := strings.Join(functionEnv(map[string]string{"PATH": "/opt/bin"}, "/h", "/t"), " "); got != "PATH=/opt/bin HOME=/h TMPDIR=/t" {
		t.Fatalf("PATH var: %s", got)
	}
}
