package invocation

import (
	"encoding/json"
	"strconv"

	"github.com/sous-run/sous/sdk/rawjson"
)

// DecodeTask reads a task from its queue payload. It checks the payload once and
// reads its members in one scan, the input kept as written (a view of payload), where
// encoding/json would scan it twice and decode through reflection; anything the scan
// would not read exactly as encoding/json does is decoded by encoding/json.
func DecodeTask(payload []byte) (Task, error) {
	var t Task
	if rawjson.Valid(payload) && rawjson.Members(payload, t.set) {
		return t, nil
	}
	t = Task{}
	err := json.Unmarshal(payload, &t)
	return t, err
}

// set stores one member's value v (a valid JSON value) under key.
func (t *Task) set(key, v []byte) bool {
	switch string(key) {
	case "invocation_id":
		return rawjson.String(&t.InvocationID, v)
	case "tenant":
		return rawjson.String(&t.Tenant, v)
	case "function":
		return rawjson.String(&t.Function, v)
	case "digest":
		return rawjson.String(&t.Digest, v)
	case "runtime":
		return rawjson.String(&t.Runtime, v)
	case "env":
		return rawjson.String(&t.Env, v)
	case "traceparent":
		return rawjson.String(&t.Traceparent, v)
	case "timeout_ms":
		return rawjson.Int(&t.TimeoutMS, v, 64)
	case "enqueued_at_ms":
		return rawjson.Int(&t.EnqueuedAtMS, v, 64)
	case "version":
		n := int64(t.Version)
		ok := rawjson.Int(&n, v, strconv.IntSize)
		t.Version = int(n)
		return ok
	case "input":
		t.Input = v
		return true
	}
	return rawjson.Foreign(key, taskKeys)
}

// taskKeys are the task's JSON keys.
var taskKeys = []string{"invocation_id", "tenant", "function", "version", "digest", "runtime", "env", "timeout_ms", "enqueued_at_ms", "traceparent", "input"}
