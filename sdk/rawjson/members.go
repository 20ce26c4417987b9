package rawjson

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Members calls set with each member of b, an object already checked valid
// (Valid), in one scan that finds each value's extent without checking it again:
// for a flat struct it takes the place of encoding/json's second pass and reflection.
// It reports false when b is not an object, a key holds an escape, or set reports
// false (a value it would not read exactly as encoding/json does): the caller then
// decodes b with encoding/json.
func Members(b []byte, set func(key, v []byte) bool) bool {
	i := SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = SkipSpace(b, i+1)
	for i < len(b) && b[i] != '}' {
		end := SkipValue(b, i) // the key
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return false
		}
		i = SkipSpace(b, end)
		i = SkipSpace(b, i+1) // past ':'
		end = SkipValue(b, i)
		if !set(key, b[i:end]) {
			return false
		}
		i = SkipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = SkipSpace(b, i+1)
		}
	}
	return true
}

// String decodes a JSON string into s (null leaves s as it is, as encoding/json does).
func String(s *string, v []byte) bool {
	switch {
	case string(v) == "null":
		return true
	case v[0] != '"':
		return false
	case bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v):
		*s = string(v[1 : len(v)-1])
		return true
	}
	return json.Unmarshal(v, s) == nil
}

// Int decodes a JSON integer of bits into n (null leaves n as it is); false for any
// other number, which encoding/json would refuse or round.
func Int(n *int64, v []byte, bits int) bool {
	if string(v) == "null" {
		return true
	}
	x, err := strconv.ParseInt(string(v), 10, bits)
	*n = x
	return err == nil
}

// Foreign reports whether key, a member no field of the struct took, is free to skip:
// false when encoding/json would take it for one of keys (it matches keys regardless
// of case).
func Foreign(key []byte, keys []string) bool {
	for _, k := range keys {
		if bytes.EqualFold(key, []byte(k)) {
			return false
		}
	}
	return true
}
