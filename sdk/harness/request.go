package harness

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/sous-run/sous/sdk"
)

// runnerRequest is one line on the harness's stdin.
type runnerRequest struct {
	ID             string          `json:"id"`
	Input          json.RawMessage `json:"input"`
	Ctx            runnerCtx       `json:"ctx"`
	TmpDir         string          `json:"tmpdir"`
	MaxResultBytes int64           `json:"max_result_bytes"`
	Nonce          string          `json:"nonce"`
}

// runnerCtx is the ctx handed to the function.
type runnerCtx struct {
	InvocationID string `json:"invocation_id"`
	Function     string `json:"function"`
	Version      string `json:"version"`
	Env          string `json:"env"`
	Deadline     int64  `json:"deadline"`
	Attempt      int32  `json:"attempt"`
	Tenant       string `json:"tenant"`
	Traceparent  string `json:"traceparent,omitempty"` // W3C trace context of the harness.run span, when tracing is on
}

// requestLine encodes the request for one invocation, newline-terminated.
func requestLine(req sdk.RunRequest, input []byte, tmp string, deadline time.Time, limits Limits, nonce []byte, traceparent string) []byte {
	line, _ := json.Marshal(runnerRequest{ID: req.InvocationID, Input: input, TmpDir: tmp, MaxResultBytes: limits.MaxResultBytes,
		Nonce: string(bytes.TrimSpace(nonce)),
		Ctx: runnerCtx{InvocationID: req.InvocationID, Function: req.Function, Version: req.Version, Env: req.Env,
			Deadline: deadline.UnixMilli(), Attempt: int32(req.Attempt), Tenant: req.Tenant, Traceparent: traceparent}})
	return append(line, '\n')
}
