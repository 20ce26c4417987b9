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

// REST reads codeQ's result and queue-stats endpoints. Task and result reads use the
// producer token; queue stats need an admin token (scope codeq:admin or role ADMIN).
type REST struct {
	base  string
	token TokenFunc
	admin TokenFunc
	hc    *http.Client
}

// NewREST builds a REST client; addr is host:port (http) or a full base URL. admin
// returns the token for /admin routes (an error naming the missing key when unset).
func NewREST(addr string, token, admin TokenFunc) *REST {
	base := addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return &REST{base: strings.TrimRight(base, "/"), token: token, admin: admin, hc: &http.Client{Timeout: 90 * time.Second}}
}

// TaskView is a task as codeQ's REST API shows it (codeQ's domain.Task): the payload is
// a JSON string holding the producer's bytes, the state is status plus
// lastKnownLocation, and a dead letter's reason is in error.
type TaskView struct {
	ID                string `json:"id"`
	Command           string `json:"command"`
	Payload           string `json:"payload"`
	Priority          int    `json:"priority,omitempty"`
	Status            string `json:"status"`
	LastKnownLocation string `json:"lastKnownLocation,omitempty"`
	WorkerID          string `json:"workerId,omitempty"`
	LeaseUntil        string `json:"leaseUntil,omitempty"`
	Attempts          int32  `json:"attempts,omitempty"`
	MaxAttempts       int32  `json:"maxAttempts,omitempty"`
	Error             string `json:"error,omitempty"`
	TenantID          string `json:"tenantId,omitempty"`
	CreatedAt         string `json:"createdAt"`
	UpdatedAt         string `json:"updatedAt"`
}

// Task locations codeQ reports in lastKnownLocation.
const (
	LocationPending    = "PENDING_LIST"
	LocationDelayed    = "DELAYED_ZSET"
	LocationInProgress = "INPROG_SET"
	LocationDLQ        = "DLQ_SET"
)

// ResultView is codeQ's result record (domain.ResultRecord). codeQ keeps result as a
// map, so key order is not preserved: compare it as JSON, not as bytes.
type ResultView struct {
	TaskID      string          `json:"taskId"`
	Status      string          `json:"status"`
	Result      json.RawMessage `json:"result,omitempty"`
	Error       string          `json:"error,omitempty"`
	CompletedAt string          `json:"completedAt"`
}

// QueueStats is codeQ's per-command queue depth (domain.QueueStats).
type QueueStats struct {
	Command    string `json:"command"`
	Ready      int64  `json:"ready"`
	Delayed    int64  `json:"delayed"`
	InProgress int64  `json:"inProgress"`
	DLQ        int64  `json:"dlq"`
}

// Result reads GET /v1/codeq/tasks/{id}/result (ErrNotFound when there is none yet).
func (r *REST) Result(ctx context.Context, id string) (*TaskView, *ResultView, error) {
	var out struct {
		Task   *TaskView   `json:"task"`
		Result *ResultView `json:"result"`
	}
	if err := r.get(ctx, r.token, "/v1/codeq/tasks/"+url.PathEscape(id)+"/result", &out); err != nil {
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
	if err := r.get(ctx, r.token, "/v1/codeq/tasks/"+url.PathEscape(id), &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Queue reads GET /v1/codeq/admin/queues/{command} with the admin token.
func (r *REST) Queue(ctx context.Context, command string) (*QueueStats, error) {
	var s QueueStats
	if err := r.get(ctx, r.admin, "/v1/codeq/admin/queues/"+url.PathEscape(command), &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// ErrNoToken wraps a missing credential; the message names the config key to set.
var ErrNoToken = errors.New("no token")

func (r *REST) get(ctx context.Context, tokenOf TokenFunc, path string, out any) error {
	tok, err := tokenOf()
	if err != nil {
		return fmt.Errorf("GET %s: %w: %w", path, ErrNoToken, err)
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
