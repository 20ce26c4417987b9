// Package invocation holds the types shared by the control and worker roles: the task
// payload that travels through messaging and the outcome a worker acks with.
package invocation

import (
	"encoding/json"
	"fmt"

	"github.com/sous-run/sous/sdk/envelope"
)

// Record statuses.
const (
	StatusPending   = "pending"
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusTimeout   = "timeout"
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
	Input        json.RawMessage `json:"input,omitempty"`
	TimeoutMS    int64           `json:"timeout_ms"`
	EnqueuedAtMS int64           `json:"enqueued_at_ms"`
	Traceparent  string          `json:"traceparent,omitempty"` // W3C trace context of the submit, when tracing is on
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

// ErrorInfo is the error of a failed invocation.
type ErrorInfo struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Stack   string `json:"stack,omitempty"`
}

// Outcome is the final record of a run: what the worker acks with, and what the control
// role writes to the invocation record.
type Outcome struct {
	InvocationID string          `json:"invocation_id"`
	Status       string          `json:"status"`
	Output       json.RawMessage `json:"output,omitempty"`
	Error        *ErrorInfo      `json:"error,omitempty"`
	DurationMS   int64           `json:"duration_ms"`
	Attempt      int             `json:"attempt,omitempty"`
	Worker       string          `json:"worker,omitempty"`
	Chunks       int             `json:"chunks,omitempty"`
	FinishedAtMS int64           `json:"finished_at_ms,omitempty"`
}

// FromTerminal builds an outcome from a run's terminal result or error envelope.
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
	o.Status = StatusFailed
	if e.Kind == envelope.KindTimeout {
		o.Status = StatusTimeout
	}
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
