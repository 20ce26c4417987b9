package rawjson

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// validSeeds cover every token, every escape, the byte classes a string may hold,
// and the malformed neighbours of each.
var validSeeds = []string{
	`null`, `true`, `false`, `nul`, `truex`, `nulll`, `tru e`, ``, ` `, "\t\r\n 1 \n",
	`0`, `-0`, `01`, `-`, `1.`, `.5`, `1.5e`, `1.5e+`, `1e-07`, `-12.340E+10`, `1 2`, `+1`, `0x1`,
	`""`, `"a\"b\\c\/d\be\ff\ng\rh\ti"`, `"\u00e9\uD83D\ude00"`, `"\u00g0"`, `"\u00e"`, `"\x"`, `"\'"`,
	"\"tab\there\"", "\"nl\nhere\"", "\"del\x7f ok\"", "\"bad utf8 \xff\xfe ok\"", "\"caf\xc3\xa9\"",
	`"unterminated`, `"ends in backslash\`, `"0123456789abcdef0123456789abcdef"`,
	`"0123456\"89abcdef"`, `"01234567\\9abcdef"`, "\"0123456\x1f89abcdef\"",
	`{}`, `[]`, `{ }`, `[ ]`, `{"a":1}`, `{"a" : 1 , "b":[1, 2,{"c":null}]}`, `{"a":1,}`, `[1,]`,
	`{"a"}`, `{"a":}`, `{1:2}`, `{"a":1 "b":2}`, `[1 2]`, `[`, `]`, `{"a":[}`, `[}`, `{]`,
	`{"a":1}}`, `[[[]]]`, `[[[]]`, `{"a":{"b":{"c":{}}}}`, ` {"a" :"x" } `,
}

// Valid answers as json.Valid does; Check's depth and compactness agree with a plain
// count and with json.Compact.
func FuzzValidAsEncodingJSON(f *testing.F) {
	for _, s := range validSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		depth, compact, ok := Check(b)
		if want := json.Valid(b); ok != want {
			t.Fatalf("%q: json.Valid says %v, Check %v", b, want, ok)
		}
		if !ok {
			return
		}
		if want := countDepth(b); depth != want {
			t.Fatalf("%q: depth %d, want %d", b, depth, want)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, b); err != nil {
			t.Fatal(err)
		}
		if want := bytes.Equal(c.Bytes(), b); compact != want {
			t.Fatalf("%q: compact %v, json.Compact says %v", b, compact, want)
		}
	})
}

// countDepth is the deepest nesting of valid JSON, counted byte by byte.
func countDepth(b []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// Nesting is refused past encoding/json's limit, at the same depth.
func TestValidRefusesWhatEncodingJSONFindsTooDeep(t *testing.T) {
	for _, d := range []int{maxDepth - 1, maxDepth, maxDepth + 1} {
		for _, open := range []string{"[", `{"k":`} {
			closer := "]"
			if open != "[" {
				closer = "}"
			}
			b := []byte(strings.Repeat(open, d) + "1" + strings.Repeat(closer, d))
			depth, _, ok := Check(b)
			if want := json.Valid(b); ok != want {
				t.Fatalf("%s ×%d: json.Valid says %v, Check %v", open, d, want, ok)
			}
			if ok && depth != d {
				t.Fatalf("%s ×%d: depth %d", open, d, depth)
			}
		}
	}
}

// A long string is checked in eight-byte lanes: a special byte at every position of
// a lane is still seen.
func TestValidFindsSpecialBytesAnywhereInALane(t *testing.T) {
	for pos := range 24 {
		for _, c := range []byte{'"', '\\', 0x00, 0x1f, '\n', 0x20, 0x7f, 0x80, 0xff} {
			s := []byte(`"` + strings.Repeat("x", 24) + `"`)
			s[1+pos] = c
			if got, want := Valid(s), json.Valid(s); got != want {
				t.Fatalf("byte %#x at %d: Valid %v, json.Valid %v", c, pos, got, want)
			}
		}
	}
}

// BenchmarkValid compares Valid with json.Valid on a 1 MiB object of strings (as the
// bench's large input is) and on a small envelope.
func BenchmarkValid(b *testing.B) {
	for _, c := range []struct{ name, doc string }{
		{"small", `{"type":"result","output":{"ping":1},"duration_ms":0}`},
		{"1MiB", `{"s":"` + strings.Repeat("abcdefgh", 1<<17) + `","n":[1,2.5,-3e2,true,null]}`},
	} {
		doc := []byte(c.doc)
		b.Run(c.name+"/sous", func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for range b.N {
				if !Valid(doc) {
					b.Fatal("invalid")
				}
			}
		})
		b.Run(c.name+"/encoding-json", func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for range b.N {
				if !json.Valid(doc) {
					b.Fatal("invalid")
				}
			}
		})
	}
}

// Check's depth counts arrays and objects, not brackets inside strings.
func TestCheckDepth(t *testing.T) {
	for in, want := range map[string]int{
		`1`: 0, `{}`: 1, `[[1],[2,[3]]]`: 3, `{"a":"[[[[{{"}`: 1, `{"a":"\"[","b":[{}]}`: 3,
		strings.Repeat("[", 5000) + strings.Repeat("]", 5000): 5000,
	} {
		if got, _, ok := Check([]byte(in)); !ok || got != want {
			t.Errorf("Check(%.40s) = %d, %v; want %d", in, got, ok, want)
		}
	}
}
