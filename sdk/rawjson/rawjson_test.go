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
