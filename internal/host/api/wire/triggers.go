package wire

import (
	"encoding/json"
	"time"
)

// ScheduleRequest is the body of PUT /v1/functions/{name}/schedules/{id}.
type ScheduleRequest struct {
	Cron     string          `json:"cron"`               // 5 fields, or @hourly, @every 5m, …
	Input    json.RawMessage `json:"input,omitempty"`    // the function's input on every tick
	Env      string          `json:"env,omitempty"`      // alias to run (default dev)
	Timezone string          `json:"timezone,omitempty"` // IANA name (default UTC)
	Enabled  *bool           `json:"enabled,omitempty"`  // default true; false pauses
	Catchup  string          `json:"catchup,omitempty"`  // none | one (default one)
}

// Schedule is a schedule as the API shows it.
type Schedule struct {
	ID             string          `json:"id"`
	Function       string          `json:"function"`
	Cron           string          `json:"cron"`
	Input          json.RawMessage `json:"input,omitempty"`
	Env            string          `json:"env"`
	Timezone       string          `json:"timezone"`
	Enabled        bool            `json:"enabled"`
	Catchup        string          `json:"catchup"`
	NextRun        *time.Time      `json:"next_run,omitempty"` // absent while paused
	LastTick       *time.Time      `json:"last_tick,omitempty"`
	LastInvocation string          `json:"last_invocation,omitempty"`
	LastError      string          `json:"last_error,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
}

// ScheduleList is the body of GET /v1/functions/{name}/schedules and GET /v1/schedules.
type ScheduleList struct {
	Schedules []*Schedule `json:"schedules"`
}

// WebhookSecret is the body of GET /v1/webhooks/secret and POST /v1/webhooks/secret/rotate.
type WebhookSecret struct {
	Secret        string     `json:"secret"`
	CreatedAt     time.Time  `json:"created_at"`
	PreviousUntil *time.Time `json:"previous_until,omitempty"` // the old secret also signs until then
}
