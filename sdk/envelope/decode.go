package envelope

import (
	"encoding/json"
	"strconv"

	"github.com/sous-run/sous/sdk/rawjson"
)

// decode fills e from b, a JSON document already checked valid (rawjson.Valid), in one
// scan that finds each member's extent without checking it again and copies data and
// output as they are. encoding/json would scan b twice (a check, then a decode that
// re-scans every raw value it keeps) and decode through reflection: for a 1 MiB
// output, two passes of its state machine over the megabyte. It reports false for
// anything it does not read exactly as encoding/json would (not an object, a key with
// an escape or in another case, a value of another type, a number that is not an
// integer): the caller then decodes with encoding/json.
func (e *Envelope) decode(b []byte) bool { return rawjson.Members(b, e.set) }

// set stores one member's value v (a valid JSON value) under key.
func (e *Envelope) set(key, v []byte) bool {
	switch string(key) {
	case "type":
		return rawjson.String(&e.Type, v)
	case "id":
		return rawjson.String(&e.ID, v)
	case "status":
		return rawjson.String(&e.Status, v)
	case "worker":
		return rawjson.String(&e.Worker, v)
	case "stream":
		return rawjson.String(&e.Stream, v)
	case "text":
		return rawjson.String(&e.Text, v)
	case "message":
		return rawjson.String(&e.Message, v)
	case "kind":
		return rawjson.String(&e.Kind, v)
	case "stack":
		return rawjson.String(&e.Stack, v)
	case "ts":
		return rawjson.Int(&e.TS, v, 64)
	case "seq":
		return rawjson.Int(&e.Seq, v, 64)
	case "duration_ms":
		return rawjson.Int(&e.DurationMS, v, 64)
	case "attempt":
		n := int64(e.Attempt)
		ok := rawjson.Int(&n, v, strconv.IntSize)
		e.Attempt = int(n)
		return ok
	case "data":
		e.Data = append(json.RawMessage(nil), v...)
	case "output":
		e.Output = append(json.RawMessage(nil), v...)
	default:
		// Not the envelope's: skipped, unless encoding/json would take it for one of
		// its fields.
		return rawjson.Foreign(key, fieldKeys)
	}
	return true
}

// fieldKeys are the envelope's JSON keys.
var fieldKeys = []string{"type", "id", "status", "attempt", "worker", "stream", "text", "ts", "data", "seq", "output", "duration_ms", "message", "kind", "stack"}
