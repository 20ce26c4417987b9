package config

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
)

// validate checks values that have the right type but cannot work.
func validate(c *Config) error {
	var errs []error
	oneOf := func(key, v string, allowed []string) {
		if !slices.Contains(allowed, v) {
			errs = append(errs, fmt.Errorf("%s: %q is not allowed; use %s (from %s)", key, v, orList(allowed), c.Source(key)))
		}
	}
	positive := func(key string, v int64) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s: %d is not allowed; use a number above 0 (from %s)", key, v, c.Source(key)))
		}
	}
	oneOf("role", c.Role, Roles)
	oneOf("log_level", c.LogLevel, []string{"trace", "debug", "info", "warn", "error"})
	oneOf("log_format", c.LogFormat, []string{"text", "json"})
	errs = append(errs, c.Telemetry.validate(c)...)
	oneOf("auth.algorithm", c.Auth.Algorithm, []string{"HS256", "RS256", "ES256"})
	oneOf("plugins.events.fallback", c.Plugins.Events.Fallback, []string{"none", "inline"})
	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		errs = append(errs, fmt.Errorf("http.addr: %q is not host:port, e.g. 127.0.0.1:8080 (from %s)", c.HTTP.Addr, c.Source("http.addr")))
	}
	if strings.TrimSpace(c.DataDir) == "" {
		errs = append(errs, fmt.Errorf("data_dir: must not be empty (from %s)", c.Source("data_dir")))
	}
	if strings.TrimSpace(c.Plugins.Dir) == "" {
		errs = append(errs, fmt.Errorf("plugins.dir: must not be empty (from %s)", c.Source("plugins.dir")))
	}
	if c.GCFloorMB < 0 || c.GCFloorMB > 4096 {
		errs = append(errs, fmt.Errorf("gc_floor_mb: %d is not allowed; use 0 (no floor) to 4096 MiB (from %s)", c.GCFloorMB, c.Source("gc_floor_mb")))
	}
	if c.Plugins.GOMAXPROCS < 0 {
		errs = append(errs, fmt.Errorf("plugins.gomaxprocs: %d is not allowed; use 0 (half the CPUs) or a number of CPUs (from %s)", c.Plugins.GOMAXPROCS, c.Source("plugins.gomaxprocs")))
	}
	positive("http.max_body_bytes", c.HTTP.MaxBodyBytes)
	positive("limits.max_bundle_bytes", c.Limits.MaxBundleBytes)
	positive("limits.max_files", int64(c.Limits.MaxFiles))
	positive("limits.default_timeout_ms", c.Limits.DefaultTimeoutMs)
	positive("limits.max_timeout_ms", c.Limits.MaxTimeoutMs)
	positive("limits.default_memory_mb", int64(c.Limits.DefaultMemoryMB))
	positive("limits.max_memory_mb", int64(c.Limits.MaxMemoryMB))
	positive("limits.max_result_bytes", c.Limits.MaxResultBytes)
	positive("limits.max_log_bytes", c.Limits.MaxLogBytes)
	positive("limits.max_input_bytes", c.Limits.MaxInputBytes)
	positive("limits.max_input_depth", int64(c.Limits.MaxInputDepth))
	positive("limits.max_event_bytes", c.Limits.MaxEventBytes)
	positive("limits.max_embedded_events_bytes", c.Limits.MaxEmbeddedEventsBytes)
	if c.Limits.MaxInputBytes > MaxInputBytesCeiling {
		errs = append(errs, fmt.Errorf("limits.max_input_bytes: %d is above %d, the most a plugin call carries with room for the task envelope (from %s)",
			c.Limits.MaxInputBytes, MaxInputBytesCeiling, c.Source("limits.max_input_bytes")))
	}
	errs = append(errs, c.checkQueuePayload())
	errs = append(errs, c.checkWorkerFunctions())
	if c.Limits.DefaultTimeoutMs > c.Limits.MaxTimeoutMs {
		errs = append(errs, fmt.Errorf("limits.default_timeout_ms: %d is above limits.max_timeout_ms %d; lower it or raise the maximum",
			c.Limits.DefaultTimeoutMs, c.Limits.MaxTimeoutMs))
	}
	positive("worker.concurrency", int64(c.Worker.Concurrency))
	positive("worker.lease_seconds", int64(c.Worker.LeaseSeconds))
	positive("worker.max_attempts", int64(c.Worker.MaxAttempts))
	for key, d := range map[string]int64{
		"invoke.idle_timeout": int64(c.Invoke.IdleTimeout), "invoke.total_timeout": int64(c.Invoke.TotalTimeout),
		"invoke.reaper_interval": int64(c.Invoke.ReaperInterval), "invoke.stale_after": int64(c.Invoke.StaleAfter),
		"invoke.lost_after":      int64(c.Invoke.LostAfter),
		"invoke.idempotency_ttl": int64(c.Invoke.IdempotencyTTL), "invoke.events_ttl": int64(c.Invoke.EventsTTL),
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be a duration above 0, e.g. 90s (from %s)", key, c.Source(key)))
		}
	}
	errs = append(errs, c.validateWebhooks()...)
	errs = append(errs, c.validateCluster()...)
	errs = append(errs, c.checkDriver("messaging", "plugins.messaging.driver", c.Plugins.Messaging.Driver))
	errs = append(errs, c.checkDriver("events", "plugins.events.driver", c.Plugins.Events.Driver))
	seen := map[string]bool{}
	for _, d := range c.Plugins.Executor.Drivers {
		if seen[d] {
			errs = append(errs, fmt.Errorf("plugins.executor.drivers: %q is listed twice (from %s)", d, c.Source("plugins.executor.drivers")))
		}
		seen[d] = true
		errs = append(errs, c.checkDriver("executor", "plugins.executor.drivers", d))
	}
	return errors.Join(errs...)
}
