package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ErrNotFound is a REST 404.
var ErrNotFound = errors.New("not found")

// REST reads codeQ's result and queue-stats endpoints.
type REST struct {
	base  string
	token TokenFunc
	hc    *http.Client
}

// NewREST builds a REST client; addr is host:port (http) or a full base URL.
func NewREST(addr string, token TokenFunc) *REST {
	base := addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return &REST{base: strings.TrimRight(base, "/"), token: token, hc: &http.Client{Timeout: 30 * time.Second}}
}

// TaskView is a task as codeQ's REST API shows it.
type TaskView struct {
	ID          string          `json:"id"`
	Command     string          `json:"command"`
	Payload     json.RawMessage `json:"payload"`
	Status      string          `json:"status"`
	Attempts    int32           `json:"attempts"`
	MaxAttempts int32           `json:"maxAttempts"`
	TenantID    string          `json:"tenantId"`
	RunAt       string          `json:"runAt"`
	LastError   string          `json:"lastError"`
	UpdatedAt   string          `json:"updatedAt"`
}

// ResultView is codeQ's result record.
type ResultView struct {
	TaskID      string          `json:"taskId"`
	Status      string          `json:"status"`
	Result      json.RawMessage `json:"result"`
	Error       string          `json:"error"`
	CompletedAt string          `json:"completedAt"`
}

// QueueStats is codeQ's per-command queue depth.
type QueueStats struct {
	Ready      int64 `json:"ready"`
	Delayed    int64 `json:"delayed"`
	InProgress int64 `json:"inProgress"`
	DLQ        int64 `json:"dlq"`
}

// Result reads GET /v1/codeq/tasks/{id}/result (ErrNotFound when there is none yet).
func (r *REST) Result(ctx context.Context, id string) (*TaskView, *ResultView, error) {
	var out struct {
		Task   *TaskView   `json:"task"`
		Result *ResultView `json:"result"`
	}
	if err := r.get(ctx, "/v1/codeq/tasks/"+url.PathEscape(id)+"/result", &out); err != nil {
		return nil, nil, err
	}
	if out.Result == nil {
		return out.Task, nil, ErrNotFound
	}
	return out.Task, out.Result, nil
}

// Task reads GET /v1/codeq/tasks/{id}.
func (r *REST) Task(ctx context.Context, id string) (*TaskView, error) {
	var t TaskView
	if err := r.get(ctx, "/v1/codeq/tasks/"+url.PathEscape(id), &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Queue reads GET /v1/codeq/admin/queues/{command}.
func (r *REST) Queue(ctx context.Context, command string) (*QueueStats, error) {
	var s QueueStats
	if err := r.get(ctx, "/v1/codeq/admin/queues/"+url.PathEscape(command), &s); err != nil {
		return nil, err
	}
	return &s, nil
}

func (r *REST) get(ctx context.Context, path string, out any) error {
	tok, err := r.token()
	if err != nil {
		return fmt.Errorf("GET %s: token: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+path, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := r.hc.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("GET %s: %w", path, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("GET %s: HTTP %d: %s", path, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: decode: %w", path, err)
	}
	return nil
}
