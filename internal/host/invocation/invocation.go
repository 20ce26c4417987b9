// Package invocation holds the types shared by the control and worker roles: the task
// payload that travels through messaging and the outcome a worker acks with. It is the
// one definition of an invocation's outcome: its Status, its ErrorInfo, the mapping from
// a terminal event to a status (FromTerminal, StatusOf), whether an event is done
// (IsDone), which environments show logs (ShowsLogs), and how an outcome is reported to a
// reader (Outcome.Send: terminal, then done). The store, the API bodies (internal/host/api/wire)
// and the webhooks use these types.
package invocation

import (
	"encoding/json"
	"fmt"

	"github.com/sous-run/sous/sdk/rawjson"
)

// CommandPrefix prefixes the runtime queues of earlier releases: sous.run.<runtime>.
// Invocations are queued per function (FunctionCommand); a default worker still drains
// these so a task queued before the upgrade is not stranded.
const CommandPrefix = "sous.run."

// Command returns the messaging command (queue) for a runtime.
func Command(runtime string) string { return CommandPrefix + runtime }

// Task is the messaging payload of one invocation.
type Task struct {
	InvocationID string          `json:"invocation_id"`
	Tenant       string          `json:"tenant"`
	Function     string          `json:"function"`
	Version      int             `json:"version"`
	Digest       string          `json:"digest"`
	Runtime      string          `json:"runtime"`
	Env          string          `json:"env"`
	TimeoutMS    int64           `json:"timeout_ms"`
	EnqueuedAtMS int64           `json:"enqueued_at_ms"`
	Traceparent  string          `json:"traceparent,omitempty"` // W3C trace context of the submit, when tracing is on
	Input        json.RawMessage `json:"input,omitempty"`       // last: written with rawjson.Set (see Payload)
}

// Payload is the task as the queue carries it: JSON, byte for byte what encoding/json
// would write (the fields in order, omitempty kept), with the input spliced in as sent
// to the API (checked and compacted there) rather than compacted again, and without
// reflection.
func (t *Task) Payload() ([]byte, error) {
	b := make([]byte, 0, 256+len(t.Input))
	b = append(b, '{')
	b = rawjson.AppendStringField(b, "invocation_id", t.InvocationID, false)
	b = rawjson.AppendStringField(b, "tenant", t.Tenant, false)
	b = rawjson.AppendStringField(b, "function", t.Function, false)
	b = rawjson.AppendIntField(b, "version", int64(t.Version), false)
	b = rawjson.AppendStringField(b, "digest", t.Digest, false)
	b = rawjson.AppendStringField(b, "runtime", t.Runtime, false)
	b = rawjson.AppendStringField(b, "env", t.Env, false)
	b = rawjson.AppendIntField(b, "timeout_ms", t.TimeoutMS, false)
	b = rawjson.AppendIntField(b, "enqueued_at_ms", t.EnqueuedAtMS, false)
	b = rawjson.AppendStringField(b, "traceparent", t.Traceparent, true)
	b = rawjson.AppendRawField(b, "input", t.Input)
	return append(b, '}'), nil
}

// Validate reports what a task is missing.
func (t *Task) Validate() error {
	switch {
	case t.InvocationID == "":
		return fmt.Errorf("task: missing invocation_id")
	case t.Tenant == "":
		return fmt.Errorf("task %s: missing tenant", t.InvocationID)
	case t.Digest == "":
		return fmt.Errorf("task %s: missing digest", t.InvocationID)
	case t.Runtime == "":
		return fmt.Errorf("task %s: missing runtime", t.InvocationID)
	}
	return nil
}
