package invocation

import "encoding/json"

// Record is the durable record of one invocation, as the control role keeps it.
type Record struct {
	ID             string          `json:"invocation_id"`
	Tenant         string          `json:"tenant"`
	Function       string          `json:"function"`
	Version        int             `json:"version"`
	Digest         string          `json:"digest"`
	Runtime        string          `json:"runtime"`
	Env            string          `json:"env"`
	Status         string          `json:"status"`
	Output         json.RawMessage `json:"output,omitempty"`
	Error          *ErrorInfo      `json:"error,omitempty"`
	Attempts       int             `json:"attempts"`
	Worker         string          `json:"worker,omitempty"`
	Async          bool            `json:"async,omitempty"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	CreatedAtMS    int64           `json:"created_at_ms"`
	StartedAtMS    int64           `json:"started_at_ms,omitempty"`
	FinishedAtMS   int64           `json:"finished_at_ms,omitempty"`
	DurationMS     int64           `json:"duration_ms,omitempty"`
}

// Final reports whether the record reached an end status.
func (r *Record) Final() bool {
	switch r.Status {
	case StatusSucceeded, StatusFailed, StatusTimeout:
		return true
	}
	return false
}

// Apply copies an outcome into the record.
func (r *Record) Apply(o *Outcome) {
	r.Status, r.Output, r.Error, r.DurationMS = o.Status, o.Output, o.Error, o.DurationMS
	if o.Attempt > r.Attempts {
		r.Attempts = o.Attempt
	}
	if o.Worker != "" {
		r.Worker = o.Worker
	}
	r.FinishedAtMS = o.FinishedAtMS
}
