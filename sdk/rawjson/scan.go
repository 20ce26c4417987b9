package rawjson

import (
	"bytes"
	"encoding/json"
)

// The scan below reads documents already checked valid (Valid): it finds where
// each value ends without checking it again, and at memchr speed inside strings.

// Cut checks that doc is JSON and, when it is an object with a member key, returns
// the object without that member and the member's value (a view of doc). ok is false
// when doc is not JSON, not an object, has no such member, or has another key that
// encoding/json would also take for it (in another case, or escaped): the caller
// then decodes doc whole.
func Cut(doc []byte, key string) (rest, value []byte, ok bool) {
	if !Valid(doc) {
		return nil, nil, false
	}
	i := SkipSpace(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return nil, nil, false
	}
	from, to := -1, -1 // what to drop: the member, and a comma next to it
	prevComma := -1    // the comma before the current member
	i = SkipSpace(doc, i+1)
	for i < len(doc) && doc[i] != '}' {
		start := i
		end := SkipValue(doc, i)
		k := doc[i+1 : end-1]
		i = SkipSpace(doc, SkipSpace(doc, end)+1) // past ':'
		vEnd := SkipValue(doc, i)
		v := doc[i:vEnd]
		i = SkipSpace(doc, vEnd)
		comma := -1
		if i < len(doc) && doc[i] == ',' {
			comma = i
			i = SkipSpace(doc, i+1)
		}
		switch {
		case string(k) == key && from < 0:
			value = v
			if comma >= 0 {
				from, to = start, comma+1
			} else if prevComma >= 0 {
				from, to = prevComma, vEnd
			} else {
				from, to = start, vEnd
			}
		case bytes.IndexByte(k, '\\') >= 0 || bytes.EqualFold(k, []byte(key)):
			return nil, nil, false
		}
		prevComma = comma
	}
	if from < 0 {
		return nil, nil, false
	}
	rest = make([]byte, 0, len(doc)-(to-from))
	return append(append(rest, doc[:from]...), doc[to:]...), value, true
}

// UnmarshalCut decodes doc into v, its member key apart: that member's value is
// returned as written, not decoded (it was checked with the rest of doc). When Cut
// declines, doc is decoded whole and value is nil (v holds it, as encoding/json put it).
func UnmarshalCut(doc []byte, key string, v any) (value []byte, err error) {
	rest, value, ok := Cut(doc, key)
	if !ok {
		return nil, json.Unmarshal(doc, v)
	}
	return value, json.Unmarshal(rest, v)
}

// SkipSpace returns the index of the first byte at or after i that is not JSON
// whitespace.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// SkipValue returns the index just past the valid JSON value that starts at i.
func SkipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) { // a number, true, false or null: up to the next delimiter
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// skipString returns the index just past the string that starts at i: its closing
// quote is the first one not escaped (preceded by an odd run of backslashes).
func skipString(b []byte, i int) int {
	for j := i + 1; ; {
		q := bytes.IndexByte(b[j:], '"')
		if q < 0 {
			return len(b)
		}
		j += q
		n := 0
		for k := j - 1; k > i && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
		j++
	}
}
