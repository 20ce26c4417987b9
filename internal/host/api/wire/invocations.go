package wire

import (
	"encoding/json"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/sdk/rawjson"
)

// Invocation is an invocation record (GET /v1/invocations/{id}).
type Invocation struct {
	ID             string                `json:"id"`
	Tenant         string                `json:"tenant"`
	Function       string                `json:"function"`
	Version        int                   `json:"version"`
	Digest         string                `json:"digest,omitempty"`
	Env            string                `json:"env,omitempty"`
	Status         invocation.Status     `json:"status"`
	Error          *invocation.ErrorInfo `json:"error,omitempty"`
	CreatedAt      time.Time             `json:"created_at"`
	StartedAt      *time.Time            `json:"started_at,omitempty"`
	FinishedAt     *time.Time            `json:"finished_at,omitempty"`
	DurationMS     int64                 `json:"duration_ms,omitempty"`
	Attempts       int                   `json:"attempts"`
	IdempotencyKey string                `json:"idempotency_key,omitempty"`
	Trigger        string                `json:"trigger,omitempty"`  // what started it: "schedule:<id>"; empty for a call
	TickAt         *time.Time            `json:"tick_at,omitempty"`  // the schedule tick it runs for
	Callback       *Callback             `json:"callback,omitempty"` // its completion webhook
	Input          json.RawMessage       `json:"input,omitempty"`
	Output         json.RawMessage       `json:"output,omitempty"`
}

// Callback is the completion webhook of an invocation and how its delivery went.
type Callback struct {
	URL         string     `json:"url"`
	Status      string     `json:"status"` // waiting | pending | delivered | failed | elsewhere
	Attempts    int        `json:"attempts"`
	LastError   string     `json:"last_error,omitempty"`
	LastStatus  int        `json:"last_status,omitempty"` // HTTP status of the last answer
	NextAt      *time.Time `json:"next_at,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
}

// InvocationList is the body of GET /v1/invocations.
type InvocationList struct {
	Invocations []*Invocation `json:"invocations"`
}

// AsyncResponse is the 202 body of an async invocation.
type AsyncResponse struct {
	InvocationID string            `json:"invocation_id"`
	Status       invocation.Status `json:"status"`
	StatusURL    string            `json:"status_url"`
	EventsURL    string            `json:"events_url"`
}

// InvokeResult is the buffered JSON body of a sync invocation.
type InvokeResult struct {
	InvocationID string                `json:"invocation_id"`
	Status       invocation.Status     `json:"status"`
	Chunks       []json.RawMessage     `json:"chunks"`
	Error        *invocation.ErrorInfo `json:"error,omitempty"`
	DurationMS   int64                 `json:"duration_ms"`
	Attempts     int                   `json:"attempts,omitempty"`
	Logs         []LogLine             `json:"logs,omitempty"` // dev runs only
	Output       json.RawMessage       `json:"output"`         // last: written with rawjson.Set (see MarshalBody)
}

// MarshalBody is the result as the API writes it: the output spliced in as the
// executor checked it, not compacted again (null when there is none).
func (r *InvokeResult) MarshalBody() ([]byte, error) {
	head := *r
	head.Output = nil
	return rawjson.MarshalWith(&head, rawjson.Field{Key: "output", Raw: r.Output})
}

// LogLine is one line a function printed, in an InvokeResult.
type LogLine struct {
	Stream string `json:"stream"` // stdout | stderr
	Text   string `json:"text"`
	TS     int64  `json:"ts,omitempty"`
}
