// Package rawjson writes and reads JSON objects that carry a large JSON value (a
// function's input or output) without passing the value through encoding/json, which
// compacts and re-checks every json.RawMessage it writes and scans again every one it
// reads: for a 1 MiB value, a pass over the megabyte at each hop. Written values must
// already be valid JSON on one line (the API checks and compacts an input once, the
// executor checks an output once); read documents are checked once (Valid), then
// split with a fast scan (Cut).
package rawjson

import (
	"bytes"
	"encoding/json"
)

// Marshal is json.Marshal without HTML escaping and without the trailing newline.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// Field is a large value and the key it goes under.
type Field struct {
	Key string
	Raw []byte
}

// MarshalWith encodes head, a struct whose last fields were left empty for fields,
// and sets each of them in order (see Set).
func MarshalWith(head any, fields ...Field) ([]byte, error) {
	b, err := Marshal(head)
	if err != nil {
		return nil, err
	}
	for _, f := range fields {
		b = Set(b, f.Key, f.Raw)
	}
	return b, nil
}

// Set makes raw the value of key in obj, a JSON object encoded from a struct whose
// field for key is its last field and was left empty: obj then ends with
// `"key":null}` (the field written when empty) or without the key (omitempty). An
// empty raw leaves obj as it is.
func Set(obj []byte, key string, raw []byte) []byte {
	if len(raw) == 0 || len(obj) < 2 || obj[len(obj)-1] != '}' {
		return obj
	}
	member := append(append([]byte{'"'}, key...), `":`...)
	head, wasNull := bytes.CutSuffix(obj, append(member, "null}"...))
	if !wasNull {
		head = obj[:len(obj)-1]
	}
	out := make([]byte, 0, len(head)+len(member)+len(raw)+3) // room for a newline after
	out = append(out, head...)
	if !wasNull && len(head) > 1 { // a member before it: "{...,"
		out = append(out, ',')
	}
	out = append(out, member...)
	out = append(out, raw...)
	return append(out, '}')
}
