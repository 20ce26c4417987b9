package broker

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/sous-run/sous/plugins/messaging-codeq/token"
)

// restTask is a task as codeQ's REST API shows it.
type restTask struct {
	ID          string          `json:"id"`
	Command     string          `json:"command"`
	Payload     json.RawMessage `json:"payload,omitempty"`
	Priority    int32           `json:"priority"`
	MaxAttempts int32           `json:"maxAttempts"`
	Status      string          `json:"status"`
	WorkerID    string          `json:"workerId,omitempty"`
	LeaseUntil  string          `json:"leaseUntil,omitempty"`
	Attempts    int32           `json:"attempts"`
	TenantID    string          `json:"tenantId"`
	RunAt       string          `json:"runAt,omitempty"` // set while delayed
	LastError   string          `json:"lastError,omitempty"`
	CreatedAt   string          `json:"createdAt"`
	UpdatedAt   string          `json:"updatedAt"`
}

// restResult is codeQ's ResultRecord.
type restResult struct {
	TaskID      string          `json:"taskId"`
	Status      string          `json:"status"`
	Result      json.RawMessage `json:"result,omitempty"`
	Error       string          `json:"error,omitempty"`
	CompletedAt string          `json:"completedAt"`
}

// QueueStats is the body of GET /v1/codeq/admin/queues/{command}.
type QueueStats struct {
	Command    string `json:"command"`
	Ready      int64  `json:"ready"`
	Delayed    int64  `json:"delayed"`
	InProgress int64  `json:"inProgress"`
	DLQ        int64  `json:"dlq"`
}

func (b *Broker) routes() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	m.HandleFunc("GET /v1/codeq/tasks/{id}/result", b.authed(b.getResult))
	m.HandleFunc("GET /v1/codeq/tasks/{id}", b.authed(b.getTask))
	m.HandleFunc("GET /v1/codeq/admin/queues/{command}", b.authed(b.queueStats))
	return m
}

// authed checks the bearer token (any valid token with a tenant) and passes its tenant on.
func (b *Broker) authed(h func(w http.ResponseWriter, r *http.Request, tenant string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing bearer token"})
			return
		}
		c, err := b.cfg.Verifier.Parse(raw)
		if err != nil {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": err.Error()})
			return
		}
		if c.Tenant == "" || !(c.Has(token.ScopeProduce) || c.Has(token.ScopeClaim)) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "token needs a tenant (tid) and a codeq scope"})
			return
		}
		h(w, r, c.Tenant)
	}
}

func (b *Broker) lookup(tenant, id string) (restTask, *record, bool) {
	b.q.mu.Lock()
	defer b.q.mu.Unlock()
	r, ok := b.q.tasks[id]
	if !ok || r.Tenant != tenant {
		return restTask{}, nil, false
	}
	cp := *r
	return toRest(&cp), &cp, true
}

func (b *Broker) getTask(w http.ResponseWriter, r *http.Request, tenant string) {
	t, _, ok := b.lookup(tenant, r.PathValue("id"))
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (b *Broker) getResult(w http.ResponseWriter, r *http.Request, tenant string) {
	t, rec, ok := b.lookup(tenant, r.PathValue("id"))
	if !ok || (rec.Status != StatusCompleted && rec.Status != StatusFailed) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "result not found"})
		return
	}
	res := restResult{TaskID: rec.ID, Status: rec.Status, Error: rec.Error, CompletedAt: stamp(rec.CompletedAt)}
	if rec.Status == StatusCompleted {
		res.Result = rec.Result
	}
	writeJSON(w, http.StatusOK, map[string]any{"task": t, "result": res})
}

func (b *Broker) queueStats(w http.ResponseWriter, r *http.Request, tenant string) {
	cmd := strings.TrimSpace(r.PathValue("command"))
	out := b.q.stats(queueKey{tenant, cmd})
	writeJSON(w, http.StatusOK, out)
}

func toRest(r *record) restTask {
	t := restTask{ID: r.ID, Command: r.Command, Priority: r.Priority, MaxAttempts: r.MaxAttempts,
		Status: r.Status, WorkerID: r.WorkerID, Attempts: r.Attempts, TenantID: r.Tenant, LastError: r.Error,
		CreatedAt: stamp(r.CreatedAt), UpdatedAt: stamp(r.UpdatedAt)}
	if json.Valid(r.Payload) {
		t.Payload = r.Payload
	} else if len(r.Payload) > 0 {
		t.Payload, _ = json.Marshal(r.Payload)
	}
	if r.Status == StatusInProgress {
		t.LeaseUntil = stamp(r.LeaseUntil)
	}
	if r.Status == StatusPending && r.VisibleAt > 0 {
		t.RunAt = stamp(r.VisibleAt)
	}
	return t
}

func stamp(ms int64) string {
	if ms == 0 {
		return ""
	}
	return msTime(ms).Format(time.RFC3339Nano)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
