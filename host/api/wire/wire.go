// Package wire holds the JSON bodies of the Sous HTTP API, shared by the
// server (host/api) and the Go client (host/client).
package wire

import (
	"encoding/json"

	"github.com/sous-run/sous/host/store"
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
	// metadata; the host checks the schema (limits in host/api/meta.go).
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema,omitempty"`
	// OnComplete is the completion webhook of async runs of this version (sous.yaml on_complete).
	OnComplete string `json:"on_complete,omitempty"`
}

// Version is a deployed version (response of deploy and an element of VersionList).
type Version = store.Version

// Function is a function with its aliases (GET /v1/functions/{name}).
type Function = store.Function

// Bundle is the code and settings of a version (GET /v1/bundles/{digest}).
type Bundle = store.Bundle

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

// ErrorBody is every error response: {"error":{"code","message","request_id"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}
