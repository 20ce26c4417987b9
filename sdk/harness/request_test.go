package harness

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/rawjson"
)

// The request is one line whatever the input's whitespace, and carries the input as
// sent: a line break in it would end the request early and leave the rest to be read
// as the next one.
func TestRequestLineIsOneLineWithTheInput(t *testing.T) {
	for _, in := range []string{`{"a":[1,2],"s":"x\ny"}`, "{\n  \"a\": [1,\r\n 2],\n  \"s\": \"x\\ny\"\n}", `"<&>"`} {
		input, ok := oneLine([]byte(in))
		if !ok {
			t.Fatalf("%q: refused", in)
		}
		line := requestLine(sdk.RunRequest{InvocationID: "i-1", Tenant: "t"}, input, "/tmp/x", time.Now(), Limits{MaxResultBytes: 10}, []byte("n0nce "), "")
		if bytes.Count(line, []byte{'\n'}) != 1 || line[len(line)-1] != '\n' || bytes.IndexByte(line, '\r') >= 0 {
			t.Fatalf("%q: the request is not one line: %q", in, line)
		}
		var got struct {
			ID    string          `json:"id"`
			Nonce string          `json:"nonce"`
			Input json.RawMessage `json:"input"`
		}
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("%q: %v in %s", in, err, line)
		}
		var want, have any
		_ = json.Unmarshal([]byte(in), &want)
		_ = json.Unmarshal(got.Input, &have)
		if got.ID != "i-1" || got.Nonce != "n0nce" || !jsonEqual(want, have) {
			t.Fatalf("%q: the request carries %s", in, line)
		}
	}
	if _, ok := oneLine([]byte("{\n\"a\":")); ok {
		t.Fatal("input that is not JSON was let through")
	}
	if _, ok := oneLine([]byte(`{"a":}`)); ok {
		t.Fatal("input that is not JSON was let through")
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// refRequest and refCtx are the request as structs: what requestLine writes by hand,
// as encoding/json writes it.
type refRequest struct {
	ID             string          `json:"id"`
	Ctx            refCtx          `json:"ctx"`
	TmpDir         string          `json:"tmpdir"`
	MaxResultBytes int64           `json:"max_result_bytes"`
	Nonce          string          `json:"nonce"`
	Input          json.RawMessage `json:"input"`
}

type refCtx struct {
	InvocationID string `json:"invocation_id"`
	Function     string `json:"function"`
	Version      string `json:"version"`
	Env          string `json:"env"`
	Deadline     int64  `json:"deadline"`
	Attempt      int32  `json:"attempt"`
	Tenant       string `json:"tenant"`
	Traceparent  string `json:"traceparent,omitempty"`
}

// FuzzRequestLineAsEncodingJSON: the hand-written request is byte for byte what
// encoding/json writes for the same request (input spliced in as it is).
func FuzzRequestLineAsEncodingJSON(f *testing.F) {
	f.Add("inv-1", "fn", "3", "prod", "t", "", "/tmp/x", int64(6<<20), "n0nce ", 1, int64(1700000000123), []byte(`{"a":1}`))
	f.Add("é\"\\<>&\u2028", "f\x01n", "", "", "", "00-abc-01", "", int64(0), "", -3, int64(-1), []byte(`null`))
	f.Fuzz(func(t *testing.T, id, fn, version, env, tenant, traceparent, tmp string, max int64, nonce string, attempt int, deadlineMs int64, input []byte) {
		if !json.Valid(input) || bytes.ContainsAny(input, "\r\n") {
			return
		}
		req := sdk.RunRequest{InvocationID: id, Function: fn, Version: version, Env: env, Tenant: tenant, Attempt: attempt}
		deadline := time.UnixMilli(deadlineMs)
		got := requestLine(req, input, tmp, deadline, Limits{MaxResultBytes: max}, []byte(nonce), traceparent)
		head, err := rawjson.Marshal(refRequest{ID: id, TmpDir: tmp, MaxResultBytes: max, Nonce: string(bytes.TrimSpace([]byte(nonce))),
			Ctx: refCtx{InvocationID: id, Function: fn, Version: version, Env: env, Deadline: deadline.UnixMilli(), Attempt: int32(attempt), Tenant: tenant, Traceparent: traceparent}})
		if err != nil {
			t.Fatal(err)
		}
		want := append(rawjson.Set(head, "input", input), '\n')
		if !bytes.Equal(got, want) {
			t.Fatalf("requestLine wrote\n%s\nencoding/json\n%s", got, want)
		}
	})
}
