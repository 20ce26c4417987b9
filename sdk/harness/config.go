package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Config is an executor plugin's configuration (the subtree plugins.executor.<driver>).
type Config struct {
	CacheDir     string        // cache_dir: prepared bundles and runner (default <host_data_dir>/executor-<runtime>)
	Interpreter  string        // the runtime key (bun, python): interpreter path ("" = search)
	IdleTTL      time.Duration // idle_ttl_ms: an idle process exits after this long (default 5 min)
	MaxProcesses int           // max_processes: harness processes alive at once (default 8)
	Defaults     Limits        // default_*: limits for specs that leave a limit at 0
	Sandbox      string        // sandbox: auto | required | none (default auto)
	MaxPids      int64         // max_pids: processes and threads of one harness process with all its children (default 128)
	SandboxUID   int           // sandbox_uid: the unprivileged host uid (and gid) functions run as (default 65534)
	MaxCPUs      float64       // max_cpus: CPU time per second of one harness process with its children (cgroup quota; default 1)
}

// Sandbox modes.
const (
	SandboxAuto     = "auto"     // jail every harness process when the kernel allows, else warn loudly and run without
	SandboxRequired = "required" // refuse to configure without a working sandbox
	SandboxNone     = "none"     // no jail (trusted code only)
)

// Limits are the per-invocation limits of a function.
type Limits struct {
	TimeoutMS      int64 `json:"timeout_ms"`
	MemoryMB       int64 `json:"memory_mb"`
	MaxResultBytes int64 `json:"max_result_bytes"`
	MaxLogBytes    int64 `json:"max_log_bytes"`
}

// DefaultLimits apply when neither the spec nor the config sets a limit.
var DefaultLimits = Limits{TimeoutMS: 30_000, MemoryMB: 512, MaxResultBytes: 3 << 20, MaxLogBytes: 1 << 20}

// orDefault fills the zero fields of l from d.
func (l Limits) orDefault(d Limits) Limits {
	if l.TimeoutMS <= 0 {
		l.TimeoutMS = d.TimeoutMS
	}
	if l.MemoryMB <= 0 {
		l.MemoryMB = d.MemoryMB
	}
	if l.MaxResultBytes <= 0 {
		l.MaxResultBytes = d.MaxResultBytes
	}
	if l.MaxLogBytes <= 0 {
		l.MaxLogBytes = d.MaxLogBytes
	}
	return l
}

// ParseConfig decodes a config subtree for runtime rt. Unknown keys and impossible
// values are errors naming the key.
func ParseConfig(rt *Runtime, raw []byte, hostDataDir string) (*Config, error) {
	fields := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &fields); err != nil {
			return nil, fmt.Errorf("executor %s config: not a JSON object: %w", rt.Name, err)
		}
	}
	c := &Config{IdleTTL: 5 * time.Minute, MaxProcesses: 8, Defaults: DefaultLimits, Sandbox: SandboxAuto, MaxPids: 128, SandboxUID: 65534, MaxCPUs: 1}
	var ttlMS int64
	targets := map[string]any{
		"cache_dir":                &c.CacheDir,
		rt.ConfigKey:               &c.Interpreter,
		"idle_ttl_ms":              &ttlMS,
		"max_processes":            &c.MaxProcesses,
		"default_timeout_ms":       &c.Defaults.TimeoutMS,
		"default_memory_mb":        &c.Defaults.MemoryMB,
		"default_max_result_bytes": &c.Defaults.MaxResultBytes,
		"default_max_log_bytes":    &c.Defaults.MaxLogBytes,
		"sandbox":                  &c.Sandbox,
		"max_pids":                 &c.MaxPids,
		"sandbox_uid":              &c.SandboxUID,
		"max_cpus":                 &c.MaxCPUs,
	}
	for k, v := range fields {
		dst, ok := targets[k]
		if !ok {
			return nil, fmt.Errorf("executor %s config: unknown key %q (known: %s)", rt.Name, k, strings.Join(keys(targets), ", "))
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return nil, fmt.Errorf("executor %s config: key %q: %w", rt.Name, k, err)
		}
	}
	if _, ok := fields["idle_ttl_ms"]; ok {
		if ttlMS <= 0 {
			return nil, fmt.Errorf("executor %s config: idle_ttl_ms must be > 0, got %d", rt.Name, ttlMS)
		}
		c.IdleTTL = time.Duration(ttlMS) * time.Millisecond
	}
	switch c.Sandbox {
	case SandboxAuto, SandboxRequired, SandboxNone:
	default:
		return nil, fmt.Errorf("executor %s config: sandbox must be auto, required or none, got %q", rt.Name, c.Sandbox)
	}
	if c.MaxPids < 8 {
		return nil, fmt.Errorf("executor %s config: max_pids must be >= 8 (a runtime needs a few threads), got %d", rt.Name, c.MaxPids)
	}
	if c.MaxCPUs < 0.01 || c.MaxCPUs > 1024 {
		return nil, fmt.Errorf("executor %s config: max_cpus must be between 0.01 and 1024 (cores), got %g", rt.Name, c.MaxCPUs)
	}
	if c.SandboxUID <= 0 {
		return nil, fmt.Errorf("executor %s config: sandbox_uid must be an unprivileged uid (> 0), got %d", rt.Name, c.SandboxUID)
	}
	if c.MaxProcesses < 1 {
		return nil, fmt.Errorf("executor %s config: max_processes must be >= 1, got %d", rt.Name, c.MaxProcesses)
	}
	for k, v := range map[string]int64{"default_timeout_ms": c.Defaults.TimeoutMS, "default_memory_mb": c.Defaults.MemoryMB,
		"default_max_result_bytes": c.Defaults.MaxResultBytes, "default_max_log_bytes": c.Defaults.MaxLogBytes} {
		if v <= 0 {
			return nil, fmt.Errorf("executor %s config: %s must be > 0, got %d", rt.Name, k, v)
		}
	}
	if c.CacheDir == "" {
		if hostDataDir == "" {
			return nil, fmt.Errorf("executor %s config: cache_dir is not set and the host gave no data dir", rt.Name)
		}
		c.CacheDir = filepath.Join(hostDataDir, "executor-"+rt.Name)
	}
	abs, err := filepath.Abs(c.CacheDir)
	if err != nil {
		return nil, fmt.Errorf("executor %s config: cache_dir %q: %w", rt.Name, c.CacheDir, err)
	}
	c.CacheDir = abs
	return c, nil
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
