// Package config loads the host configuration: built-in defaults, then a YAML file,
// then SOUS_* environment variables, then command-line overrides, each layer winning
// over the one before. Unknown keys, unknown drivers and impossible values are errors
// that name the key, where it came from and what is allowed.
package config

import (
	"time"

	"github.com/knadh/koanf/v2"
)

// Config is the validated host configuration.
type Config struct {
	Role     string   `koanf:"role"`      // all | control | worker
	LogLevel string   `koanf:"log_level"` // trace | debug | info | warn | error
	DataDir  string   `koanf:"data_dir"`
	HTTP     HTTP     `koanf:"http"`
	Auth     Auth     `koanf:"auth"`
	Limits   Limits   `koanf:"limits"`
	Plugins  Plugins  `koanf:"plugins"`
	Worker   Worker   `koanf:"worker"`
	Invoke   Invoke   `koanf:"invoke"`
	Webhooks Webhooks `koanf:"webhooks"`
	Cluster  Cluster  `koanf:"cluster"`

	LogFormat string    `koanf:"log_format"` // text | json
	Telemetry Telemetry `koanf:"telemetry"`
	// AdaptiveProcs runs the host at one P while it serves one call at a time (one
	// request, one run) and at all of its Ps once two overlap (internal/host/procs).
	AdaptiveProcs bool `koanf:"adaptive_procs"`
	// GCFloorMB is a floor under the host's heap goal, in MiB (internal/host/gcfloor);
	// 0: Go's default pacing.
	GCFloorMB int `koanf:"gc_floor_mb"`

	// File is the YAML file that was loaded ("" when none).
	File string `koanf:"-"`

	k       *koanf.Koanf
	sources map[string]string
}

// HTTP configures the API listener.
type HTTP struct {
	Addr         string `koanf:"addr"`
	MaxBodyBytes int64  `koanf:"max_body_bytes"`
	PublicURL    string `koanf:"public_url"`
}

// Auth configures JWT verification and issuing.
type Auth struct {
	HS256Key      string `koanf:"hs256_key"`
	KeyFile       string `koanf:"key_file"`
	PublicKeyFile string `koanf:"public_key_file"`
	Algorithm     string `koanf:"algorithm"` // HS256 | RS256 | ES256
}

// Limits bound what a function and its invocations may use.
type Limits struct {
	MaxBundleBytes   int64 `koanf:"max_bundle_bytes"`
	MaxFiles         int   `koanf:"max_files"`
	DefaultTimeoutMs int64 `koanf:"default_timeout_ms"`
	MaxTimeoutMs     int64 `koanf:"max_timeout_ms"`
	DefaultMemoryMB  int   `koanf:"default_memory_mb"`
	MaxMemoryMB      int   `koanf:"max_memory_mb"`
	MaxResultBytes   int64 `koanf:"max_result_bytes"`
	MaxLogBytes      int64 `koanf:"max_log_bytes"`
	// MaxInputBytes is the largest invocation input (413 past it); every messaging
	// driver carries an input of this size.
	MaxInputBytes int64 `koanf:"max_input_bytes"`
	// MaxInputDepth is the deepest nesting of arrays and objects an input may have (400).
	MaxInputDepth int `koanf:"max_input_depth"`
	// MaxEventBytes caps the chunk and log bytes of one invocation's event log.
	MaxEventBytes int64 `koanf:"max_event_bytes"`
	// MaxEmbeddedEventsBytes caps the bytes the embedded event log holds in memory.
	MaxEmbeddedEventsBytes int64 `koanf:"max_embedded_events_bytes"`
}

// Plugins chooses the driver of each plugin kind. Driver settings
// (plugins.<kind>.<driver>) are read with DriverConfig.
type Plugins struct {
	Dir      string `koanf:"dir"`
	AutoMTLS bool   `koanf:"auto_mtls"` // go-plugin mutual TLS on plugin connections (sdk.OpenOptions.AutoMTLS)
	// GOMAXPROCS is the CPUs each plugin process's Go runtime schedules on (its
	// GOMAXPROCS variable); 0 is half the host's, at least 1. A driver's own
	// plugins.<kind>.<driver>.gomaxprocs overrides it (see DriverProcs).
	GOMAXPROCS int             `koanf:"gomaxprocs"`
	Messaging  MessagingPlugin `koanf:"messaging"`
	Events     EventsPlugin    `koanf:"events"`
	Executor   ExecutorPlugin  `koanf:"executor"`
}

// MessagingPlugin selects the queue driver.
type MessagingPlugin struct {
	Driver string `koanf:"driver"`
}

// EventsPlugin selects the event log driver. Driver "embedded" is the host's built-in
// log, "none" means no log (events only inline). Fallback "inline" lets the host
// answer from the worker's own stream when the events plugin is down.
type EventsPlugin struct {
	Driver   string `koanf:"driver"`
	Fallback string `koanf:"fallback"` // none | inline
}

// ExecutorPlugin lists the executor drivers, one per runtime name.
type ExecutorPlugin struct {
	Drivers []string `koanf:"drivers"`
}

// Worker configures the worker role.
type Worker struct {
	Concurrency  int    `koanf:"concurrency"`
	LeaseSeconds int    `koanf:"lease_seconds"`
	ID           string `koanf:"id"`
	ControlURL   string `koanf:"control_url"`
	Token        string `koanf:"token"`
	MaxAttempts  int    `koanf:"max_attempts"`
	// Functions dedicates the worker to these functions ("name" in every tenant, or
	// "tenant/name"); empty: every deployed function, kept current as functions deploy.
	Functions []string `koanf:"functions"`
}

// Invoke configures the invocation path's timeouts and retention.
type Invoke struct {
	IdleTimeout    time.Duration `koanf:"idle_timeout"`
	TotalTimeout   time.Duration `koanf:"total_timeout"`
	ReaperInterval time.Duration `koanf:"reaper_interval"`
	StaleAfter     time.Duration `koanf:"stale_after"`
	LostAfter      time.Duration `koanf:"lost_after"` // open this long and unknown to messaging: lost (infra)
	IdempotencyTTL time.Duration `koanf:"idempotency_ttl"`
	EventsTTL      time.Duration `koanf:"events_ttl"`
}

// Roles lists the allowed values of role.
var Roles = []string{"all", "control", "worker"}

// LeaseDuration is worker.lease_seconds as a duration.
func (c *Config) LeaseDuration() time.Duration {
	return time.Duration(c.Worker.LeaseSeconds) * time.Second
}

// DefaultTimeout is limits.default_timeout_ms as a duration.
func (c *Config) DefaultTimeout() time.Duration {
	return time.Duration(c.Limits.DefaultTimeoutMs) * time.Millisecond
}

// MaxTimeout is limits.max_timeout_ms as a duration.
func (c *Config) MaxTimeout() time.Duration {
	return time.Duration(c.Limits.MaxTimeoutMs) * time.Millisecond
}

// Get returns the merged value of any key (dotted path), e.g. a driver setting.
func (c *Config) Get(key string) any { return c.k.Get(key) }

// Source says which layer set key: "default", "file <path>", "env <NAME>" or "--set".
func (c *Config) Source(key string) string {
	if s, ok := c.sources[key]; ok {
		return s
	}
	return "default"
}
