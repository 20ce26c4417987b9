package sdk

import (
	"context"
	"encoding/json"
)

// Info says what a plugin is. The host checks Kind and APIVersions at launch.
type Info struct {
	Kind        string // KindMessaging, KindExecutor or KindEvents
	Driver      string // e.g. redis, codeq, bun, python, redisstream
	Version     string // the plugin's own version (semver)
	APIVersions []int  // Sous plugin API versions it supports (default: APIVersion)
	Description string
}

// Config is what the host hands a plugin once, before any other call.
type Config struct {
	JSON        json.RawMessage // the driver's config subtree, a JSON object ("{}" when empty)
	APIVersion  int             // the API version the host negotiated
	HostDataDir string          // the host's data directory (plugins may keep state under it)
}

// Health is a plugin's answer to a health probe.
type Health struct {
	Healthy bool
	Reason  string // why not healthy, for operators
	Details map[string]string
}

// Base is what every plugin implements, whatever its kind.
//
// The SDK gates every other call until Configure has succeeded (they fail with
// ErrNotConfigured) and answers Health with "not configured" until then, so a driver
// need not track that itself. A Configure error that wraps ErrInvalid (see ConfigError)
// reaches the host as a bad config naming what to fix; one that wraps ErrRefused (a
// second Configure the driver cannot take) as ErrRefused; any other as ErrUnavailable.
type Base interface {
	Info() Info
	Configure(ctx context.Context, c Config) error
	Health(ctx context.Context) Health
}
