package envelope

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// decodeSeeds are envelopes as runtimes write them and the odd ones a function could
// forge: every one must decode exactly as encoding/json decodes it.
var decodeSeeds = []string{
	`{"type":"result","output":{"a":[1,"x\"]}",{"b":null}],"c":"\\"},"duration_ms":3}`,
	`{"type":"chunk","seq":2,"data":"caf\u00e9 \ud83d\ude00"}`,
	`{"type":"log","stream":"stdout","text":"line with \"quotes\" and \\ and \n","ts":1796370000000}`,
	`{"type":"error","kind":"user","message":"boom","stack":"at x\n at y"}`,
	`{"type":"status","status":"running","attempt":2,"worker":"w1","id":"1-0"}`,
	`  {"type" : "result" , "output" : [ 1 , 2 ] , "extra":{"type":"x"} }  `,
	`{"type":"result","output":null,"duration_ms":null,"text":null}`,
	`{"type":"result","output":-1.5e3}`,
	`{"TYPE":"result","Output":7}`,
	`{"t\u0079pe":"done"}`,
	`{"type":"done","type":"result"}`,
	`{"type":"result","duration_ms":1.5}`,
	`{"type":"result","duration_ms":"5"}`,
	`{"type":5}`,
	"{\"type\":\"log\",\"text\":\"bad utf8 \xff here\",\"stream\":\"stdout\"}",
	`{"type":"result","attempt":99999999999999999999}`,
	`["type","result"]`,
	`"result"`,
	`null`,
	`{"type":"result"`,
	`{"type":"result",}`,
	`{}`,
}

// Unmarshal decodes every envelope as encoding/json does, refusing the same ones.
func FuzzUnmarshalAsEncodingJSON(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want Envelope
		werr := json.Unmarshal(b, &want)
		if werr == nil {
			werr = want.validate(false)
		}
		got, gerr := Unmarshal(b)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: encoding/json says %v, Unmarshal %v", b, werr, gerr)
		}
		if gerr == nil && !reflect.DeepEqual(*got, want) {
			t.Fatalf("%q: decoded %+v, encoding/json %+v", b, *got, want)
		}
	})
}

// A large output is copied, not kept as a view of the line it came in (the harness
// reads lines into a buffer it reuses).
func TestUnmarshalCopiesTheOutput(t *testing.T) {
	b := []byte(`{"type":"result","output":"` + strings.Repeat("x", 1<<16) + `"}`)
	e, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = ' '
	}
	if e.Output[1] != 'x' {
		t.Fatal("the output changed with the line it was read from")
	}
}
