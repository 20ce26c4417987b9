package invocation

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/sous-run/sous/sdk/rawjson"
)

// The task's and the outcome's writers give encoding/json's bytes (the reference is the
// reflection they replaced): escapes, empty and set optional fields, the raw value.
func FuzzEncodeAsEncodingJSON(f *testing.F) {
	f.Add("01a2", "acme", "fn", "sha256:ab", "python", "prod", "", 3, int64(30000), int64(1796379823769), 1, []byte(`{"ping":1}`), false)
	f.Add("i\"d", "t\n", "f<>&", "\u2028", "é\xff", "\\", "00-ab", -1, int64(0), int64(-5), 0, []byte(nil), true)
	f.Fuzz(func(t *testing.T, id, tenant, fn, digest, runtime, env, trace string, version int, timeout, at int64, attempt int, raw []byte, withErr bool) {
		if !json.Valid(raw) || bytes.ContainsAny(raw, "\r\n") {
			raw = nil
		}
		task := &Task{InvocationID: id, Tenant: tenant, Function: fn, Version: version, Digest: digest, Runtime: runtime,
			Env: env, TimeoutMS: timeout, EnqueuedAtMS: at, Traceparent: trace, Input: raw}
		head := *task
		head.Input = nil
		want, _ := rawjson.MarshalWith(&head, rawjson.Field{Key: "input", Raw: task.Input})
		if got, err := task.Payload(); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("task\n got %s (%v)\nwant %s", got, err, want)
		}
		out := &Outcome{InvocationID: id, Status: Status(env), DurationMS: timeout, Attempt: attempt, Worker: digest,
			Chunks: version, FinishedAtMS: at, Output: raw}
		if withErr {
			out.Error = &ErrorInfo{Kind: runtime, Message: fn, Stack: trace}
		}
		ohead := *out
		ohead.Output = nil
		want, _ = rawjson.MarshalWith(&ohead, rawjson.Field{Key: "output", Raw: out.Output})
		if got := out.Record(); !bytes.Equal(got, want) {
			t.Fatalf("outcome\n got %s\nwant %s", got, want)
		}
	})
}
