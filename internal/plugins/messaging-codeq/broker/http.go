package broker

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/token"
)

// restTask is a task as codeQ's REST API shows it: the JSON of codeQ's domain.Task,
// field for field (names, types and omitempty). The payload is a JSON string holding
// the producer's bytes; a delayed task is PENDING in DELAYED_ZSET, a dead letter FAILED
// in DLQ_SET with its reason in error.
type restTask struct {
	ID                string    `json:"id"`
	Command           string    `json:"command"`
	Payload           string    `json:"payload"`
	Priority          int       `json:"priority,omitempty"`
	Webhook           string    `json:"webhook,omitempty"`
	Status            string    `json:"status"`
	LastKnownLocation string    `json:"lastKnownLocation,omitempty"`
	WorkerID          string    `json:"workerId,omitempty"`
	LeaseUntil        string    `json:"leaseUntil,omitempty"` // RFC 3339, whole seconds
	Attempts          int       `json:"attempts,omitempty"`
	MaxAttempts       int       `json:"maxAttempts,omitempty"`
	Error             string    `json:"error,omitempty"`
	TenantID          string    `json:"tenantId,omitempty"`
	CreatedAt         time.Time `json:"createdAt"`
	UpdatedAt         time.Time `json:"updatedAt"`
}

// Task locations, as codeQ's lastKnownLocation spells them.
const (
	locPending    = "PENDING_LIST"
	locDelayed    = "DELAYED_ZSET"
	locInProgress = "INPROG_SET"
	locDLQ        = "DLQ_SET"
	locNone       = "NONE"
)

// restResult is codeQ's domain.ResultRecord.
type restResult struct {
	TaskID      string          `json:"taskId"`
	Status      string          `json:"status"`
	Result      json.RawMessage `json:"result,omitempty"`
	Error       string          `json:"error,omitempty"`
	CompletedAt time.Time       `json:"completedAt"`
}

// QueueStats is the body of GET /v1/codeq/admin/queues/{command} (codeQ's domain.QueueStats).
type QueueStats struct {
	Command    string `json:"command"`
	Ready      int64  `json:"ready"`
	Delayed    int64  `json:"delayed"`
	InProgress int64  `json:"inProgress"`
	DLQ        int64  `json:"dlq"`
}

// maxWaitSeconds caps ?waitSeconds= on result reads, as codeQ does.
const maxWaitSeconds = 60

func (b *Broker) routes() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	m.HandleFunc("GET /v1/codeq/tasks/{id}/result", b.anyAuth(b.getResult))
	m.HandleFunc("GET /v1/codeq/tasks/{id}", b.anyAuth(b.getTask))
	m.HandleFunc("GET /v1/codeq/admin/queues/{command}", b.adminAuth(b.queueStats))
	return m
}

// bearer checks the Authorization header and the token's tenant; it answers 401 or 403
// with codeQ's error bodies and returns nil then.
func (b *Broker) bearer(w http.ResponseWriter, r *http.Request, badToken string) *token.Claims {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		writeError(w, http.StatusUnauthorized, orDefault(badToken, "missing Authorization header"))
		return nil
	}
	scheme, raw, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		writeError(w, http.StatusUnauthorized, orDefault(badToken, "invalid Authorization format"))
		return nil
	}
	c, err := b.cfg.Verifier.Parse(strings.TrimSpace(raw))
	if err != nil {
		writeError(w, http.StatusUnauthorized, orDefault(badToken, err.Error()))
		return nil
	}
	if c.Tenant == "" {
		writeError(w, http.StatusForbidden, "invalid tenant claims")
		return nil
	}
	return c
}

// anyAuth accepts any valid token with a tenant (codeQ's AnyAuthMiddleware: producer or
// worker, no scope), and answers 401 "invalid token" otherwise.
func (b *Broker) anyAuth(h func(w http.ResponseWriter, r *http.Request, tenant string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if c := b.bearer(w, r, "invalid token"); c != nil {
			h(w, r, c.Tenant)
		}
	}
}

// adminAuth is codeQ's producer auth plus RequireAdmin: scope codeq:admin or role ADMIN,
// else 401 "unauthorized. Admin only".
func (b *Broker) adminAuth(h func(w http.ResponseWriter, r *http.Request, tenant string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := b.bearer(w, r, "")
		if c == nil {
			return
		}
		if !c.Admin() {
			writeError(w, http.StatusUnauthorized, "unauthorized. Admin only")
			return
		}
		h(w, r, c.Tenant)
	}
}

// lookup returns a copy of a task of tenant. Unlike codeQ, whose task reads are not
// scoped, another tenant's task is not found.
func (b *Broker) lookup(tenant, id string) (*record, bool) {
	b.q.mu.Lock()
	defer b.q.mu.Unlock()
	r, ok := b.q.tasks[id]
	if !ok || r.Tenant != tenant {
		return nil, false
	}
	cp := *r
	return &cp, true
}

func (b *Broker) getTask(w http.ResponseWriter, r *http.Request, tenant string) {
	rec, ok := b.lookup(tenant, r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	writeJSON(w, http.StatusOK, toRest(rec))
}

// getResult answers {task, result} once the task is COMPLETED or FAILED; with
// ?waitSeconds=N (at most 60) it long-polls until then or until the wait ends, as codeQ.
func (b *Broker) getResult(w http.ResponseWriter, r *http.Request, tenant string) {
	id := r.PathValue("id")
	wait := waitSeconds(r.URL.Query().Get("waitSeconds"))
	deadline := time.Now().Add(time.Duration(wait) * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		rec, ok := b.lookup(tenant, id)
		if !ok {
			writeError(w, http.StatusNotFound, "task not found")
			return
		}
		if rec.Status == StatusCompleted || rec.Status == StatusFailed {
			res := restResult{TaskID: rec.ID, Status: rec.Status, Error: rec.Error, CompletedAt: msTime(rec.CompletedAt)}
			if rec.Status == StatusCompleted {
				res.Result = rec.Result
			}
			writeJSON(w, http.StatusOK, map[string]any{"task": toRest(rec), "result": res})
			return
		}
		if !time.Now().Before(deadline) {
			writeError(w, http.StatusNotFound, "result not found")
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}

// waitSeconds parses ?waitSeconds= as codeQ does: not a positive integer is 0, capped at 60.
func waitSeconds(raw string) int {
	n, err := strconv.Atoi(raw)
	if err != nil || n <= 0 {
		return 0
	}
	return min(n, maxWaitSeconds)
}

func (b *Broker) queueStats(w http.ResponseWriter, r *http.Request, tenant string) {
	cmd := strings.TrimSpace(r.PathValue("command"))
	if cmd == "" {
		writeError(w, http.StatusBadRequest, "command is required")
		return
	}
	writeJSON(w, http.StatusOK, b.q.stats(queueKey{tenant, cmd}))
}

// toRest shows a record as codeQ's domain.Task.
func toRest(r *record) restTask {
	t := restTask{ID: r.ID, Command: r.Command, Payload: string(r.Payload), Priority: int(r.Priority),
		Status: r.Status, WorkerID: r.WorkerID, Attempts: int(r.Attempts), MaxAttempts: int(r.MaxAttempts),
		Error: r.Error, TenantID: r.Tenant, CreatedAt: msTime(r.CreatedAt), UpdatedAt: msTime(r.UpdatedAt)}
	if len(r.Payload) == 0 {
		t.Payload = "null" // codeQ stores an empty payload as JSON null
	}
	switch r.Status {
	case StatusPending:
		t.LastKnownLocation = locPending
		if r.VisibleAt > 0 {
			t.LastKnownLocation = locDelayed
		}
	case StatusInProgress:
		t.LastKnownLocation = locInProgress
		t.LeaseUntil = msTime(r.LeaseUntil).Truncate(time.Second).Format(time.RFC3339)
	case StatusDLQ:
		t.Status, t.LastKnownLocation = StatusFailed, locDLQ
	default:
		t.LastKnownLocation = locNone
	}
	if r.Status == StatusCompleted {
		t.Error = ""
	}
	return t
}

func orDefault(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
