package rawjson

import (
	"encoding/json"
	"reflect"
	"testing"
)

type omitted struct {
	ID    string          `json:"id"`
	Note  string          `json:"note,omitempty"`
	Input json.RawMessage `json:"input,omitempty"`
}

type written struct {
	ID     string          `json:"id"`
	Output json.RawMessage `json:"output"`
}

// Set gives the object encoding/json would have written with the value in place,
// whether the empty field was written as null or left out, and leaves it alone for
// an empty value.
func TestSetPutsTheValueWhereEncodingJSONWouldHave(t *testing.T) {
	raw := json.RawMessage(`{"a":[1,"<x>",{"b":null}]}`)
	cases := []struct {
		name string
		v    any
		key  string
		want any
	}{
		{"omitempty", omitted{ID: "i-1", Note: `"output":null}`}, "input", omitted{ID: "i-1", Note: `"output":null}`, Input: raw}},
		{"null", written{ID: "i-1"}, "output", written{ID: "i-1", Output: raw}},
		{"only the field", struct {
			Input json.RawMessage `json:"input,omitempty"`
		}{}, "input", struct {
			Input json.RawMessage `json:"input,omitempty"`
		}{raw}},
	}
	for _, c := range cases {
		obj, err := Marshal(c.v)
		if err != nil {
			t.Fatal(err)
		}
		got := Set(obj, c.key, raw)
		if !json.Valid(got) {
			t.Fatalf("%s: %s is not JSON", c.name, got)
		}
		dst := reflect.New(reflect.TypeOf(c.want))
		if err := json.Unmarshal(got, dst.Interface()); err != nil {
			t.Fatal(err)
		}
		if g := dst.Elem().Interface(); !reflect.DeepEqual(normal(t, g), normal(t, c.want)) {
			t.Fatalf("%s: %s decodes to %+v, want %+v", c.name, got, g, c.want)
		}
		if same := Set(obj, c.key, nil); string(same) != string(obj) {
			t.Fatalf("%s: an empty value changed %s into %s", c.name, obj, same)
		}
	}
}

// normal re-encodes v so raw messages compare by meaning.
func normal(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Marshal leaves <, > and & as they are (the input of a function is passed on as sent).
func TestMarshalKeepsHTMLCharacters(t *testing.T) {
	b, err := Marshal(map[string]string{"s": "<a&b>"})
	if err != nil || string(b) != `{"s":"<a&b>"}` {
		t.Fatalf("got %s, %v", b, err)
	}
}

// Cut takes one member out of an object wherever it stands, and gives its value as
// it was written; it declines what encoding/json would read differently.
func TestCutTakesOneMemberOut(t *testing.T) {
	cases := []struct{ doc, rest, value string }{
		{`{"input":{"a":[1,"}"]},"id":"x"}`, `{"id":"x"}`, `{"a":[1,"}"]}`},
		{`{"id":"x","input":"v\"q","n":2}`, `{"id":"x","n":2}`, `"v\"q"`},
		{`{"id":"x" , "input" : [ 1 ] }`, `{"id":"x"  }`, `[ 1 ]`},
		{`{"input":null}`, `{}`, `null`},
		{` {"id":{"input":1},"input":2} `, ` {"id":{"input":1}} `, `2`},
	}
	for _, c := range cases {
		rest, value, ok := Cut([]byte(c.doc), "input")
		if !ok || string(rest) != c.rest || string(value) != c.value {
			t.Fatalf("Cut(%s) = %s, %s, %v; want %s, %s", c.doc, rest, value, ok, c.rest, c.value)
		}
		if !json.Valid(rest) {
			t.Fatalf("Cut(%s) left %s, not JSON", c.doc, rest)
		}
	}
	for _, doc := range []string{`{"id":"x"}`, `{"Input":1,"input":2}`, `{"in\u0070ut":1,"input":2}`, `[1]`, `{"input":}`, `nul`} {
		if _, _, ok := Cut([]byte(doc), "input"); ok {
			t.Fatalf("Cut(%s) took a member encoding/json would read otherwise (or none)", doc)
		}
	}
}

// What Cut leaves plus what it takes is the document encoding/json reads.
func FuzzCutAsEncodingJSON(f *testing.F) {
	for _, s := range []string{`{"input":{"a":[1,"}"]},"id":"x"}`, `{"id":"x" , "input" : [ 1 ] }`, `{"input":null}`, `{"a":{"input":1},"input":"\\"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		rest, value, ok := Cut(doc, "input")
		if !ok {
			return
		}
		var whole, part map[string]any
		if err := json.Unmarshal(doc, &whole); err != nil {
			t.Fatalf("Cut took a member from %q, which encoding/json refuses: %v", doc, err)
		}
		if err := json.Unmarshal(rest, &part); err != nil {
			t.Fatalf("Cut(%q) left %q: %v", doc, rest, err)
		}
		var v any
		if err := json.Unmarshal(value, &v); err != nil {
			t.Fatalf("Cut(%q) took %q: %v", doc, value, err)
		}
		part["input"] = v
		if !reflect.DeepEqual(whole, part) {
			t.Fatalf("Cut(%q) = %q + %q, which reads as %v, not %v", doc, rest, value, part, whole)
		}
	})
}
