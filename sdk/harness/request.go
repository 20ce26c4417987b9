package harness

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/rawjson"
)

// requestLine encodes the request for one invocation, newline-terminated: the line the
// runner reads on its request channel,
//
//	{"id","ctx":{"invocation_id","function","version","env","deadline","attempt","tenant","traceparent"?},"tmpdir","max_result_bytes","nonce","input"}
//
// written member by member (no reflection: one per warm run, before the function
// runs). input is valid JSON on one line (see oneLine) and goes in as it is:
// encoding/json would compact it, a pass over each byte of a large input.
func requestLine(req sdk.RunRequest, input []byte, tmp string, deadline time.Time, limits Limits, nonce []byte, traceparent string) []byte {
	b := make([]byte, 0, 320+len(req.Function)+len(tmp)+len(input))
	b = rawjson.AppendStringField(append(b, '{'), "id", req.InvocationID, false)
	b = append(rawjson.AppendKey(b, "ctx"), '{')
	b = rawjson.AppendStringField(b, "invocation_id", req.InvocationID, false)
	b = rawjson.AppendStringField(b, "function", req.Function, false)
	b = rawjson.AppendStringField(b, "version", req.Version, false)
	b = rawjson.AppendStringField(b, "env", req.Env, false)
	b = rawjson.AppendIntField(b, "deadline", deadline.UnixMilli(), false)
	b = rawjson.AppendIntField(b, "attempt", int64(int32(req.Attempt)), false)
	b = rawjson.AppendStringField(b, "tenant", req.Tenant, false)
	b = rawjson.AppendStringField(b, "traceparent", traceparent, true) // W3C trace context of the harness.run span, when tracing is on
	b = append(b, '}')
	b = rawjson.AppendStringField(b, "tmpdir", tmp, false)
	b = rawjson.AppendIntField(b, "max_result_bytes", limits.MaxResultBytes, false)
	b = rawjson.AppendStringField(b, "nonce", string(bytes.TrimSpace(nonce)), false)
	b = rawjson.AppendRawField(b, "input", input)
	return append(b, '}', '\n')
}

// oneLine checks that input is JSON and returns it on one line: as it is, or
// compacted when it holds a line break (only whitespace between tokens can: a line
// break in the request would end it early). ok is false for input that is not JSON.
func oneLine(input []byte) (line []byte, ok bool) {
	_, compact, ok := rawjson.Check(input)
	if !ok || compact || bytes.IndexAny(input, "\r\n") < 0 {
		return input, ok
	}
	var b bytes.Buffer
	if json.Compact(&b, input) != nil {
		return nil, false
	}
	return b.Bytes(), true
}
