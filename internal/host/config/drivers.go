package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
)

// DriverConfig returns the driver's settings plugins.<kind>.<driver> as a JSON object
// without the host's keys path, inherit_env and gomaxprocs (what the plugin's Configure
// receives, verbatim), and that path ("" when not set).
func (c *Config) DriverConfig(kind, driver string) (configJSON []byte, path string) {
	sub := c.k.Cut("plugins." + kind + "." + driver).Raw()
	if p, ok := sub["path"].(string); ok {
		path = p
	}
	delete(sub, "path")
	delete(sub, "inherit_env")
	delete(sub, "gomaxprocs")
	b, err := json.Marshal(sub)
	if err != nil {
		return []byte("{}"), path
	}
	return b, path
}

// PluginCandidates lists, in order, where the binary of a driver is looked for: the
// driver's path setting, else <plugins.dir>/sous-plugin-<kind>-<driver>, then
// <plugins.dir>/sous-plugin-<driver>. Paths are absolute (relative ones are taken from
// the working directory).
func (c *Config) PluginCandidates(kind, driver string) []string {
	if _, p := c.DriverConfig(kind, driver); p != "" {
		return []string{abs(p)}
	}
	dir := abs(c.Plugins.Dir)
	return []string{
		filepath.Join(dir, "sous-plugin-"+kind+"-"+driver),
		filepath.Join(dir, "sous-plugin-"+driver),
	}
}

// PluginPath returns the binary that serves the driver, or an error naming every
// place it looked.
func (c *Config) PluginPath(kind, driver string) (string, error) {
	cands := c.PluginCandidates(kind, driver)
	for _, p := range cands {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if _, p := c.DriverConfig(kind, driver); p != "" {
		return "", fmt.Errorf("%s driver %q: plugin binary %s (plugins.%s.%s.path) does not exist", kind, driver, cands[0], kind, driver)
	}
	return "", fmt.Errorf("%s driver %q: no plugin binary %s; run `make build`, or set plugins.%s.%s.path",
		kind, driver, strings.Join(cands, " nor "), kind, driver)
}

// IsHostDriver reports whether the driver is served inside the host (events embedded or none).
func IsHostDriver(kind, driver string) bool {
	return kind == "events" && slices.Contains(HostEventsDrivers, driver)
}

// DriverInheritEnv returns plugins.<kind>.<driver>.inherit_env: the names of host
// environment variables this driver's plugin process may see, beyond the minimal set
// every plugin gets (a plugin sees nothing else of the host's environment).
func (c *Config) DriverInheritEnv(kind, driver string) []string {
	names, _ := inheritEnv(c.k.Get("plugins." + kind + "." + driver + ".inherit_env"))
	return names
}

// inheritEnv reads an inherit_env value: a YAML list, or a comma-separated string (from
// SOUS_ env or --set). ok is false when an entry is not a variable name.
func inheritEnv(v any) (names []string, ok bool) {
	var items []any
	switch v := v.(type) {
	case nil:
		return nil, true
	case string:
		for _, s := range strings.Split(v, ",") {
			items = append(items, strings.TrimSpace(s))
		}
	case []any:
		items = v
	default:
		return nil, false
	}
	for _, x := range items {
		name, isStr := x.(string)
		if !isStr || !envName.MatchString(name) {
			return nil, false
		}
		names = append(names, name)
	}
	return names, true
}

// checkInheritEnv refuses an inherit_env that is not a list of variable names.
func (c *Config) checkInheritEnv(kind, driver string) error {
	key := "plugins." + kind + "." + driver + ".inherit_env"
	if v := c.k.Get(key); v != nil {
		if _, ok := inheritEnv(v); !ok {
			return fmt.Errorf("%s: %v (from %s) is not allowed; give a list of environment variable names, e.g. [AWS_REGION, AWS_PROFILE]", key, v, c.Source(key))
		}
	}
	return nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkDriver refuses a driver that is neither built in, nor found in plugins.dir, nor
// given a path.
func (c *Config) checkDriver(kind, key, driver string) error {
	if err := c.checkInheritEnv(kind, driver); err != nil {
		return err
	}
	if k := "plugins." + kind + "." + driver + ".gomaxprocs"; c.k.Exists(k) && c.k.Int(k) < 0 {
		return fmt.Errorf("%s: %v (from %s) is not allowed; use 0 (plugins.gomaxprocs) or a number of CPUs", k, c.k.Get(k), c.Source(k))
	}
	if slices.Contains(BuiltinDrivers[kind], driver) {
		return nil
	}
	if _, err := c.PluginPath(kind, driver); err == nil {
		return nil
	}
	if _, p := c.DriverConfig(kind, driver); p != "" {
		return nil // the manager reports the missing binary by name
	}
	return fmt.Errorf("%s: %q is not a known %s driver (from %s); use %s, put sous-plugin-%s-%s in %s, or set plugins.%s.%s.path",
		key, driver, kind, c.Source(key), orList(BuiltinDrivers[kind]), kind, driver, c.Plugins.Dir, kind, driver)
}

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// DriverProcs is the GOMAXPROCS the driver's plugin process gets:
// plugins.<kind>.<driver>.gomaxprocs when set above 0, else plugins.gomaxprocs, else
// half the host's own GOMAXPROCS, at least 1. A plugin relays I/O (a warm run costs the
// executor ~0.13 ms of CPU, a queue or event driver ~0.2 ms), so one P carries
// thousands of invocations a second; the Ps it does not need cost every hand-off
// between its goroutines a wake-up of an idle thread, which on a 2-core machine takes
// the CPU from the next process in the chain. A driver that syncs a disk log itself
// (codeq's embedded broker, whose default is at least 2) wants a second: a sync holds
// its P until Go's monitor takes it back (README "Performance").
func (c *Config) DriverProcs(kind, driver string) int {
	if n := c.k.Int("plugins." + kind + "." + driver + ".gomaxprocs"); n > 0 {
		return n
	}
	if c.Plugins.GOMAXPROCS > 0 {
		return c.Plugins.GOMAXPROCS
	}
	return halfProcs()
}

// halfProcs is half the host's own GOMAXPROCS, at least 1: a plugin's default.
func halfProcs() int { return max(1, runtime.GOMAXPROCS(0)/2) }
