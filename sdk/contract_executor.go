package sdk

import (
	"context"
	"time"
)

// Limits bound one run.
type Limits struct {
	Timeout        time.Duration
	MemoryMB       int64
	MaxResultBytes int64
	MaxLogBytes    int64
}

// FunctionSpec is a deployed function version, as an executor prepares it.
type FunctionSpec struct {
	Digest   string            // sha256 of the canonical bundle, hex
	Runtime  string            // bun | python
	Entry    string            // path of the entry file inside Files
	Files    map[string][]byte // relative path -> content
	Vars     map[string]string // the function's own environment
	Limits   Limits
	Function string // function name, for logs
	Network  string // none (default: loopback only) | outbound | host
}

// RunRequest is one attempt of one invocation.
type RunRequest struct {
	InvocationID string
	Tenant       string
	Function     string
	Version      string
	Digest       string
	Input        []byte // the input as JSON (null when absent)
	Env          string // resolved environment, e.g. dev, prod
	Deadline     time.Time
	Attempt      int
}

// Executor runs functions.
type Executor interface {
	Base
	// Prepare makes a spec runnable; cached reports it already was.
	Prepare(ctx context.Context, spec FunctionSpec) (cached bool, err error)
	// Run runs one attempt and calls emit for each envelope (a JSON object) in order.
	// An error from emit ends the run with that error.
	Run(ctx context.Context, req RunRequest, emit func(envelope []byte) error) error
}
