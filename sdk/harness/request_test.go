package harness

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/sous-run/sous/sdk"
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
