package envelope

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/sous-run/sous/sdk/rawjson"
)

// decode fills e from b, a JSON document already checked valid (json.Valid), in one
// scan that finds each member's extent without checking it again and copies data and
// output as they are. encoding/json would scan b twice (a check, then a decode that
// re-scans every raw value it keeps) and decode through reflection: for a 1 MiB
// output, two passes of its state machine over the megabyte. It reports false for
// anything it does not read exactly as encoding/json would (not an object, a key with
// an escape or in another case, a value of another type, a number that is not an
// integer): the caller then decodes with encoding/json.
func (e *Envelope) decode(b []byte) bool {
	i := rawjson.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = rawjson.SkipSpace(b, i+1)
	for i < len(b) && b[i] != '}' {
		end := rawjson.SkipValue(b, i) // the key
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return false
		}
		i = rawjson.SkipSpace(b, end)
		i = rawjson.SkipSpace(b, i+1) // past ':'
		end = rawjson.SkipValue(b, i)
		if !e.set(key, b[i:end]) {
			return false
		}
		i = rawjson.SkipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = rawjson.SkipSpace(b, i+1)
		}
	}
	return true
}

// set stores one member's value v (a valid JSON value) under key.
func (e *Envelope) set(key, v []byte) bool {
	switch string(key) {
	case "type":
		return setString(&e.Type, v)
	case "id":
		return setString(&e.ID, v)
	case "status":
		return setString(&e.Status, v)
	case "worker":
		return setString(&e.Worker, v)
	case "stream":
		return setString(&e.Stream, v)
	case "text":
		return setString(&e.Text, v)
	case "message":
		return setString(&e.Message, v)
	case "kind":
		return setString(&e.Kind, v)
	case "stack":
		return setString(&e.Stack, v)
	case "ts":
		return setInt(&e.TS, v, 64)
	case "seq":
		return setInt(&e.Seq, v, 64)
	case "duration_ms":
		return setInt(&e.DurationMS, v, 64)
	case "attempt":
		n := int64(e.Attempt)
		ok := setInt(&n, v, strconv.IntSize)
		e.Attempt = int(n)
		return ok
	case "data":
		e.Data = append(json.RawMessage(nil), v...)
	case "output":
		e.Output = append(json.RawMessage(nil), v...)
	default:
		// Not the envelope's: skipped, unless encoding/json would take it for one of
		// its fields (keys match regardless of case there).
		for _, k := range fieldKeys {
			if bytes.EqualFold(key, []byte(k)) {
				return false
			}
		}
	}
	return true
}

// fieldKeys are the envelope's JSON keys.
var fieldKeys = []string{"type", "id", "status", "attempt", "worker", "stream", "text", "ts", "data", "seq", "output", "duration_ms", "message", "kind", "stack"}

// setString decodes a JSON string into s (null leaves s as it is, as encoding/json does).
func setString(s *string, v []byte) bool {
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

// setInt decodes a JSON integer of bits into n (null leaves n as it is).
func setInt(n *int64, v []byte, bits int) bool {
	if string(v) == "null" {
		return true
	}
	x, err := strconv.ParseInt(string(v), 10, bits)
	*n = x
	return err == nil
}
