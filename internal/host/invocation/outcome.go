package invocation

import (
	"encoding/json"
	"fmt"

	"github.com/sous-run/sous/sdk/envelope"
	"github.com/sous-run/sous/sdk/rawjson"
)

// ErrorInfo is the error of a failed or timed-out invocation. Kind is one of the
// envelope kinds (user, timeout, crash, limit, infra).
type ErrorInfo struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Stack   string `json:"stack,omitempty"`
}

// Outcome is the final record of a run: what the worker acks with, and what the control
// role writes to the invocation record.
type Outcome struct {
	InvocationID string          `json:"invocation_id"`
	Status       Status          `json:"status"`
	Error        *ErrorInfo      `json:"error,omitempty"`
	DurationMS   int64           `json:"duration_ms"`
	Attempt      int             `json:"attempt,omitempty"`
	Worker       string          `json:"worker,omitempty"`
	Chunks       int             `json:"chunks,omitempty"`
	FinishedAtMS int64           `json:"finished_at_ms,omitempty"`
	Output       json.RawMessage `json:"output,omitempty"` // last: written with rawjson.Set (see Record)
}

// Record is the outcome as JSON, byte for byte what encoding/json would write, with the
// output spliced in as the executor checked it rather than compacted again, and without
// reflection.
func (o *Outcome) Record() []byte {
	b := make([]byte, 0, 192+len(o.Output))
	b = append(b, '{')
	b = rawjson.AppendStringField(b, "invocation_id", o.InvocationID, false)
	b = rawjson.AppendStringField(b, "status", string(o.Status), false)
	if o.Error != nil {
		b, _ = rawjson.AppendValueField(b, "error", o.Error) // strings only: it always encodes
	}
	b = rawjson.AppendIntField(b, "duration_ms", o.DurationMS, false)
	b = rawjson.AppendIntField(b, "attempt", int64(o.Attempt), true)
	b = rawjson.AppendStringField(b, "worker", o.Worker, true)
	b = rawjson.AppendIntField(b, "chunks", int64(o.Chunks), true)
	b = rawjson.AppendIntField(b, "finished_at_ms", o.FinishedAtMS, true)
	b = rawjson.AppendRawField(b, "output", o.Output)
	return append(b, '}')
}

// Fail returns the outcome of a run that ended with an error of kind (its status
// follows from the kind, see StatusOf).
func Fail(id, kind, message string) *Outcome {
	return &Outcome{InvocationID: id, Status: StatusOf(kind), Error: &ErrorInfo{Kind: kind, Message: message}}
}

// FromTerminal builds an outcome from a run's terminal result or error envelope. It is
// the one mapping from terminal event to status.
func FromTerminal(id string, e *envelope.Envelope) *Outcome {
	o := &Outcome{InvocationID: id, DurationMS: e.DurationMS}
	if e.Type == envelope.TypeResult {
		o.Status = StatusSucceeded
		o.Output = e.Output
		if len(o.Output) == 0 {
			o.Output = json.RawMessage("null")
		}
		return o
	}
	o.Status = StatusOf(e.Kind)
	o.Error = &ErrorInfo{Kind: e.Kind, Message: e.Message, Stack: e.Stack}
	return o
}

// Terminal returns the envelope that reports this outcome to a reader.
func (o *Outcome) Terminal() *envelope.Envelope {
	if o.Status == StatusSucceeded {
		out := o.Output
		if len(out) == 0 {
			out = json.RawMessage("null")
		}
		return &envelope.Envelope{Type: envelope.TypeResult, Output: out, DurationMS: o.DurationMS, TS: o.FinishedAtMS}
	}
	e := &envelope.Envelope{Type: envelope.TypeError, Kind: envelope.KindInfra, Message: "invocation failed", DurationMS: o.DurationMS, TS: o.FinishedAtMS}
	if o.Error != nil {
		e.Kind, e.Message, e.Stack = o.Error.Kind, o.Error.Message, o.Error.Stack
	}
	return e
}

// Send passes this outcome's terminal event, then done, to send (as events the host
// made up: no id). It stops at the first error.
func (o *Outcome) Send(send func(id string, e *envelope.Envelope, raw []byte) error) error {
	for _, e := range []*envelope.Envelope{o.Terminal(), envelope.Done()} {
		raw, err := envelope.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode %s event: %w", e.Type, err)
		}
		if err := send("", e, raw); err != nil {
			return err
		}
	}
	return nil
}
