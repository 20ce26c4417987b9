package rawjson

import "strconv"

// The appenders below write an object's members by hand, byte for byte as Marshal
// writes the struct they stand for (fields in order, omitempty kept), for the objects
// written at every invocation. Open with '{', close with '}'.

// AppendKey appends `"key":` after a '{' or a member (a comma first).
func AppendKey(b []byte, key string) []byte {
	if len(b) > 0 && b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = appendString(b, key)
	return append(b, ':')
}

// AppendStringField appends the member key: v; omitEmpty leaves out an empty v.
func AppendStringField(b []byte, key, v string, omitEmpty bool) []byte {
	if omitEmpty && v == "" {
		return b
	}
	return appendString(AppendKey(b, key), v)
}

// AppendIntField appends the member key: n; omitEmpty leaves out a zero n.
func AppendIntField(b []byte, key string, n int64, omitEmpty bool) []byte {
	if omitEmpty && n == 0 {
		return b
	}
	return strconv.AppendInt(AppendKey(b, key), n, 10)
}

// AppendRawField appends the member key: raw (valid JSON on one line, written as it
// is); an empty raw is left out.
func AppendRawField(b []byte, key string, raw []byte) []byte {
	if len(raw) == 0 {
		return b
	}
	return append(AppendKey(b, key), raw...)
}

// AppendValueField appends the member key: v, v as Marshal writes it (for a nested
// value written rarely, such as an error).
func AppendValueField(b []byte, key string, v any) ([]byte, error) {
	m, err := Marshal(v)
	if err != nil {
		return b, err
	}
	return append(AppendKey(b, key), m...), nil
}

// appendString appends s as a JSON string, byte for byte as Marshal writes it: a
// string of printable ASCII without '"' or '\' as it is, any other through Marshal.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			q, _ := Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
