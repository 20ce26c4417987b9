package harness

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/rawjson"
)

// runnerRequest is one line on the harness's stdin.
type runnerRequest struct {
	ID             string          `json:"id"`
	Ctx            runnerCtx       `json:"ctx"`
	TmpDir         string          `json:"tmpdir"`
	MaxResultBytes int64           `json:"max_result_bytes"`
	Nonce          string          `json:"nonce"`
	Input          json.RawMessage `json:"input"` // last: spliced in by requestLine
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

// requestLine encodes the request for one invocation, newline-terminated. input is
// valid JSON on one line (see oneLine) and goes in as it is: encoding/json would
// compact it, a pass over each byte of a large input.
func requestLine(req sdk.RunRequest, input []byte, tmp string, deadline time.Time, limits Limits, nonce []byte, traceparent string) []byte {
	head, _ := rawjson.Marshal(runnerRequest{ID: req.InvocationID, TmpDir: tmp, MaxResultBytes: limits.MaxResultBytes,
		Nonce: string(bytes.TrimSpace(nonce)),
		Ctx: runnerCtx{InvocationID: req.InvocationID, Function: req.Function, Version: req.Version, Env: req.Env,
			Deadline: deadline.UnixMilli(), Attempt: int32(req.Attempt), Tenant: req.Tenant, Traceparent: traceparent}})
	return append(rawjson.Set(head, "input", input), '\n')
}

// oneLine checks that input is JSON and returns it on one line: as it is, or
// compacted when it holds a line break (only whitespace between tokens can: a line
// break in the request would end it early). ok is false for input that is not JSON.
func oneLine(input []byte) (line []byte, ok bool) {
	if bytes.IndexAny(input, "\r\n") < 0 {
		return input, json.Valid(input)
	}
	var b bytes.Buffer
	if json.Compact(&b, input) != nil {
		return nil, false
	}
	return b.Bytes(), true
}
