package rawjson

import "strconv"

// AppendString appends s as a JSON string, byte for byte as Marshal writes it: a
// string of printable ASCII without '"' or '\' as it is, any other through Marshal.
func AppendString(b []byte, s string) []byte {
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

// AppendKey appends `"key":` after a '{' or a member (a comma first).
func AppendKey(b []byte, key string) []byte {
	if len(b) > 0 && b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = AppendString(b, key)
	return append(b, ':')
}

// AppendInt appends n as a JSON number.
func AppendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// AppendValue appends v as Marshal writes it.
func AppendValue(b []byte, v any) ([]byte, error) {
	m, err := Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, m...), nil
}
