package config

import "github.com/sous-run/sous/sdk/limits"

// Defaults is the built-in configuration, the first layer every Load starts from.
// Its shape is also the schema: a key that is not here (and not inside a driver
// subtree plugins.<kind>.<driver>) is an unknown key.
func Defaults() map[string]any {
	return map[string]any{
		"role":      "all",
		"log_level": "info",
		// One P while the host serves one call at a time: an idle P's thread costs
		// wake-ups the plugins and functions on the same cores could use (procs).
		"adaptive_procs": true,
		"data_dir":       "./.sous",
		// The host's live heap is a few MB: without a floor it collected every few MB of
		// allocation (gcfloor).
		"gc_floor_mb": 16,
		"http": map[string]any{
			"addr":           "127.0.0.1:8080",
			"max_body_bytes": 16777216,
			"public_url":     "",
		},
		"auth": map[string]any{
			"hs256_key":       "",
			"key_file":        "",
			"public_key_file": "",
			"algorithm":       "HS256",
		},
		"limits": map[string]any{
			"max_bundle_bytes":   10485760,
			"max_files":          1000,
			"default_timeout_ms": limits.DefaultTimeoutMS,
			"max_timeout_ms":     limits.MaxTimeoutMS,
			"default_memory_mb":  limits.DefaultMemoryMB,
			"max_memory_mb":      limits.MaxMemoryMB,
			"max_result_bytes":   limits.DefaultMaxResultBytes,
			"max_log_bytes":      limits.DefaultMaxLogBytes,
			// One input limit for every driver: the Redis queue's max_payload_bytes and
			// gRPC's 4 MiB message leave room for it plus the task envelope.
			"max_input_bytes":           1048576,
			"max_input_depth":           64,
			"max_event_bytes":           16777216,
			"max_embedded_events_bytes": 134217728,
		},
		"plugins": map[string]any{
			"dir": "./bin/plugins",
			// Plugin connections are private Unix sockets: TLS on them keeps nobody out.
			"auto_mtls": false,
			// Plugins relay I/O: half the host's CPUs (at least 1), see DriverProcs.
			"gomaxprocs": 0,
			// The default topology needs nothing installed: codeQ with its embedded broker
			// (at the plugins' Ps too: a second P cost more wake-ups than its log syncs
			// held deliveries back, once calls and deliveries left gRPC; README "Performance").
			"messaging": map[string]any{"driver": "codeq", "codeq": map[string]any{"embedded": true}},
			"events":    map[string]any{"driver": "embedded", "fallback": "none"},
			"executor":  map[string]any{"drivers": []any{"bun", "python"}},
		},
		"worker": map[string]any{
			"concurrency":   8,
			"lease_seconds": 30,
			"id":            "",
			"control_url":   "",
			"token":         "",
			"max_attempts":  3,
			"functions":     []any{}, // every deployed function
		},
		"log_format": "text",
		"telemetry": map[string]any{
			"metrics_addr":       "",
			"heartbeat_interval": 10,
			"otlp":               map[string]any{"endpoint": ""},
		},
		"invoke": map[string]any{
			"idle_timeout":    "90s",
			"total_timeout":   "5m",
			"reaper_interval": "1m",
			"stale_after":     "10m",
			"lost_after":      "30s",
			"idempotency_ttl": "24h",
			"events_ttl":      "5m",
		},
		"webhooks": map[string]any{
			"allow_cidrs":    []any{},
			"timeout":        "10s",
			"max_age":        "24h",
			"backoff_base":   "5s",
			"backoff_max":    "1h",
			"max_body_bytes": 262144,
		},
		"cluster": clusterDefaults(),
	}
}

// pluginSettings are the keys of plugins.<kind> that are settings rather than driver
// subtrees; every other key under plugins.<kind> names a driver.
var pluginSettings = map[string][]string{
	"messaging": {"driver"},
	"events":    {"driver", "fallback"},
	"executor":  {"drivers"},
}

// BuiltinDrivers are the drivers that ship with Sous, per kind. "embedded" and "none"
// events drivers live inside the host (no plugin).
var BuiltinDrivers = map[string][]string{
	"messaging": {"codeq", "redis"},
	"events":    {"embedded", "none", "redisstream"},
	"executor":  {"bun", "python"},
}

// HostEventsDrivers are events drivers served by the host itself, without a plugin.
var HostEventsDrivers = []string{"embedded", "none"}

// listKeys are keys whose value is a list; from env and --set they are comma-separated.
var listKeys = map[string]bool{"plugins.executor.drivers": true, "webhooks.allow_cidrs": true, "worker.functions": true, "cluster.join": true}
