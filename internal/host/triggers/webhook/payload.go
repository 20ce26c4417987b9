package webhook

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
)

// Payload is the body of a completion webhook: the final record, never its logs.
type Payload struct {
	Event      string                `json:"event"` // "invocation.completed"
	ID         string                `json:"id"`
	Function   string                `json:"function"`
	Version    int                   `json:"version"`
	Env        string                `json:"env,omitempty"`
	Status     invocation.Status     `json:"status"`
	Output     json.RawMessage       `json:"output,omitempty"`
	Error      *invocation.ErrorInfo `json:"error,omitempty"`
	Trigger    string                `json:"trigger,omitempty"`
	TickAt     *time.Time            `json:"tick_at,omitempty"`
	CreatedAt  time.Time             `json:"created_at"`
	StartedAt  *time.Time            `json:"started_at,omitempty"`
	FinishedAt *time.Time            `json:"finished_at,omitempty"`
	DurationMS int64                 `json:"duration_ms"`
	Attempts   int                   `json:"attempts"`
	// OutputOmitted says why output is missing: it made the body larger than the cap.
	OutputOmitted string `json:"output_omitted,omitempty"`
}

// Body encodes the webhook body of a final record. When the body would exceed max
// bytes the output (then the error's stack) is left out and OutputOmitted says so.
func Body(rec *store.Invocation, max int) ([]byte, error) {
	p := Payload{Event: "invocation.completed", ID: rec.ID, Function: rec.Function, Version: rec.Version, Env: rec.Env,
		Status: rec.Status, Output: rec.Output, Error: rec.Error, Trigger: rec.Trigger, TickAt: rec.TickAt,
		CreatedAt: rec.CreatedAt, StartedAt: rec.StartedAt, FinishedAt: rec.FinishedAt, DurationMS: rec.DurationMS, Attempts: rec.Attempts}
	body, err := json.Marshal(&p)
	if err != nil || len(body) <= max {
		return body, err
	}
	p.Output = nil
	p.OutputOmitted = fmt.Sprintf("the body was %d bytes, over webhooks.max_body_bytes (%d); GET /v1/invocations/%s has the output", len(body), max, rec.ID)
	if p.Error != nil && p.Error.Stack != "" {
		e := *p.Error
		e.Stack = ""
		p.Error = &e
	}
	body, err = json.Marshal(&p)
	if err == nil && len(body) > max {
		return nil, fmt.Errorf("webhook body of %s is %d bytes without output, over webhooks.max_body_bytes (%d)", rec.ID, len(body), max)
	}
	return body, err
}
