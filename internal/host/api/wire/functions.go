package wire

import (
	"encoding/json"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
)

// DeployRequest is the body of POST /v1/functions/{name}/versions.
type DeployRequest struct {
	Runtime   string            `json:"runtime"`
	Entry     string            `json:"entry"`
	Files     map[string]string `json:"files"` // slash-separated relative path -> base64 (standard) content
	Vars      map[string]string `json:"vars,omitempty"`
	TimeoutMS int               `json:"timeout_ms,omitempty"` // 0 = limits.default_timeout_ms
	MemoryMB  int               `json:"memory_mb,omitempty"`  // 0 = limits.default_memory_mb
	Network   string            `json:"network,omitempty"`    // none (default) | outbound | host
	Env       string            `json:"env,omitempty"`        // alias to point at the new version; default "dev"
	// Description and InputSchema (a JSON Schema object) are the function's sous.yaml
	// metadata; the host checks the schema (limits in internal/host/api/meta.go).
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema,omitempty"`
	// OnComplete is the completion webhook of async runs of this version (sous.yaml on_complete).
	OnComplete string `json:"on_complete,omitempty"`
}

// Meta is a version's sous.yaml metadata.
type Meta struct {
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema,omitempty"`
}

// Settings are how a version runs: its runtime, entry point and limits.
type Settings struct {
	Runtime   string            `json:"runtime"`
	Entry     string            `json:"entry"`
	Vars      map[string]string `json:"vars,omitempty"`
	TimeoutMS int               `json:"timeout_ms"`
	MemoryMB  int               `json:"memory_mb"`
	Network   string            `json:"network,omitempty"` // "" (none: loopback only) | outbound | host
}

// Version is a deployed version (response of deploy and an element of VersionList).
type Version struct {
	Function string `json:"function"`
	Number   int    `json:"version"`
	Digest   string `json:"digest"`
	Settings
	Files     int       `json:"files"`
	Size      int64     `json:"size_bytes"`
	CreatedAt time.Time `json:"created_at"`
	Meta
}

// Function is a function with its aliases (GET /v1/functions/{name}).
type Function struct {
	Tenant    string         `json:"tenant"`
	Name      string         `json:"name"`
	Latest    int            `json:"latest_version"`
	Aliases   map[string]int `json:"aliases"` // alias (environment) -> version number
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	DeletedAt *time.Time     `json:"deleted_at,omitempty"`
}

// Bundle is the code and settings of a version (GET /v1/bundles/{digest}).
type Bundle struct {
	Settings
	Files map[string][]byte `json:"files"` // base64 in JSON
	Meta
}

// DeployResponse is the body of a deploy: the new version (201) and the alias
// set, or, when the bundle is identical to the latest version, that version
// with Unchanged set (200).
type DeployResponse struct {
	Version
	Alias     string `json:"alias"`
	Unchanged bool   `json:"unchanged,omitempty"`
}

// FunctionList is the body of GET /v1/functions.
type FunctionList struct {
	Functions []*Function `json:"functions"`
}

// VersionList is the body of GET /v1/functions/{name}/versions (newest first).
type VersionList struct {
	Versions []*Version `json:"versions"`
}

// AliasRequest is the body of PUT /v1/functions/{name}/aliases/{alias}.
type AliasRequest struct {
	Version int `json:"version"`
}

// DeployedList is the body of GET /v1/worker/functions: every deployed function of
// every tenant.
type DeployedList struct {
	Functions []invocation.FunctionRef `json:"functions"`
}
