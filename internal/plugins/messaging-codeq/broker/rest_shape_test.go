package broker_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/token"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/producerpb"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/workerpb"
)

// The types below restate, as facts, the JSON of codeQ's public REST API
// (github.com/osvaldoandrade/codeq, pkg/domain: Task, ResultRecord, QueueStats): the same
// field names and Go types. codeQ's own clients decode the broker's answers into these
// shapes, so a body that does not decode into them strictly would break those clients.
type codeqTask struct {
	ID                string    `json:"id"`
	Command           string    `json:"command"`
	Payload           string    `json:"payload"`
	Priority          int       `json:"priority,omitempty"`
	Webhook           string    `json:"webhook,omitempty"`
	TraceParent       string    `json:"traceParent,omitempty"`
	TraceState        string    `json:"traceState,omitempty"`
	Status            string    `json:"status"`
	LastKnownLocation string    `json:"lastKnownLocation,omitempty"`
	WorkerID          string    `json:"workerId,omitempty"`
	LeaseUntil        string    `json:"leaseUntil,omitempty"`
	Attempts          int       `json:"attempts,omitempty"`
	MaxAttempts       int       `json:"maxAttempts,omitempty"`
	Error             string    `json:"error,omitempty"`
	ResultKey         string    `json:"resultKey,omitempty"`
	TenantID          string    `json:"tenantId,omitempty"`
	CreatedAt         time.Time `json:"createdAt"`
	UpdatedAt         time.Time `json:"updatedAt"`
}

type codeqResult struct {
	TaskID      string         `json:"taskId"`
	Status      string         `json:"status"`
	Result      map[string]any `json:"result,omitempty"`
	Error       string         `json:"error,omitempty"`
	Artifacts   []any          `json:"artifacts,omitempty"`
	CompletedAt time.Time      `json:"completedAt"`
}

type codeqQueueStats struct {
	Command    string `json:"command"`
	Ready      int64  `json:"ready"`
	Delayed    int64  `json:"delayed"`
	InProgress int64  `json:"inProgress"`
	DLQ        int64  `json:"dlq"`
}

// get GETs path with tok and returns the status and the body.
func get(t *testing.T, addr, tok, path string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes()
}

// strict decodes body into out, refusing fields codeQ's type does not have.
func strict(t *testing.T, body []byte, out any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		t.Fatalf("body %s does not decode as codeQ's type: %v", body, err)
	}
}

func wantBody(t *testing.T, code int, body []byte, wantCode int, wantErr string) {
	t.Helper()
	var e map[string]string
	if code != wantCode || json.Unmarshal(body, &e) != nil || e["error"] != wantErr || len(e) != 1 {
		t.Fatalf("HTTP %d %s, want %d {\"error\":%q}", code, body, wantCode, wantErr)
	}
}

// TestRESTTaskShape pins GET /v1/codeq/tasks/{id} through a task's life: the payload is
// a JSON string, the state is status + lastKnownLocation, a dead letter is FAILED in
// DLQ_SET with its reason in error, and leaseUntil has whole seconds.
func TestRESTTaskShape(t *testing.T) {
	b := startBroker(t, t.TempDir(), nil)
	tok := mint(t, "acme", token.ScopeProduce)
	task := func(id string) codeqTask {
		t.Helper()
		code, body := get(t, b.HTTPAddr, tok, "/v1/codeq/tasks/"+id)
		if code != http.StatusOK {
			t.Fatalf("GET task: HTTP %d %s", code, body)
		}
		var ct codeqTask
		strict(t, body, &ct)
		return ct
	}
	id := create(t, b, &producerpb.CreateTask{Payload: []byte(`{"a":1}`), MaxAttempts: 2})
	if ct := task(id); ct.ID != id || ct.Command != cmd || ct.Payload != `{"a":1}` || ct.Status != "PENDING" ||
		ct.LastKnownLocation != "PENDING_LIST" || ct.TenantID != "acme" || ct.MaxAttempts != 2 || ct.CreatedAt.IsZero() {
		t.Fatalf("pending task %+v", ct)
	}
	later := create(t, b, &producerpb.CreateTask{DelaySeconds: 60})
	if ct := task(later); ct.Status != "PENDING" || ct.LastKnownLocation != "DELAYED_ZSET" {
		t.Fatalf("delayed task %+v, want PENDING in DELAYED_ZSET", ct)
	}
	w := worker(t, b, "w1")
	w.ready(1, 30)
	w.task()
	ct := task(id)
	lu, err := time.Parse(time.RFC3339, ct.LeaseUntil)
	if ct.Status != "IN_PROGRESS" || ct.LastKnownLocation != "INPROG_SET" || ct.WorkerID != "w1" || ct.Attempts != 1 ||
		err != nil || lu.Nanosecond() != 0 {
		t.Fatalf("claimed task %+v, want IN_PROGRESS in INPROG_SET, leaseUntil in whole seconds", ct)
	}
	if a := w.nack(id, 0); !a.Dlq {
		t.Fatalf("nack at attempts 2 of 2: %v, want dlq", a)
	}
	if ct := task(id); ct.Status != "FAILED" || ct.LastKnownLocation != "DLQ_SET" || ct.Error != "try later" || ct.Attempts != 2 {
		t.Fatalf("dead task %+v, want FAILED in DLQ_SET with the reason in error", ct)
	}
}

// TestRESTResultShape pins GET /v1/codeq/tasks/{id}/result: {task, result}, 404 bodies,
// and the ?waitSeconds= long-poll.
func TestRESTResultShape(t *testing.T) {
	b := startBroker(t, t.TempDir(), nil)
	tok := mint(t, "acme", token.ScopeProduce)
	id := create(t, b, &producerpb.CreateTask{Payload: []byte(`{}`)})
	code, body := get(t, b.HTTPAddr, tok, "/v1/codeq/tasks/"+id+"/result")
	wantBody(t, code, body, http.StatusNotFound, "result not found")
	code, body = get(t, b.HTTPAddr, tok, "/v1/codeq/tasks/no-such-task/result?waitSeconds=5")
	wantBody(t, code, body, http.StatusNotFound, "task not found")
	code, body = get(t, b.HTTPAddr, tok, "/v1/codeq/tasks/no-such-task")
	wantBody(t, code, body, http.StatusNotFound, "not found")

	w := worker(t, b, "w1")
	w.ready(1, 30)
	w.task()
	go func() {
		time.Sleep(300 * time.Millisecond)
		w.send(&workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Result{Result: &workerpb.Result{TaskId: id, Status: "COMPLETED", ResultJson: []byte(`{"b":2,"a":1}`)}}})
	}()
	code, body = get(t, b.HTTPAddr, tok, "/v1/codeq/tasks/"+id+"/result?waitSeconds=30")
	if code != http.StatusOK {
		t.Fatalf("long-poll for a result that arrives: HTTP %d %s", code, body)
	}
	var out struct {
		Task   json.RawMessage `json:"task"`
		Result json.RawMessage `json:"result"`
	}
	strict(t, body, &out)
	var ct codeqTask
	var cr codeqResult
	strict(t, out.Task, &ct)
	strict(t, out.Result, &cr)
	if ct.Status != "COMPLETED" || cr.TaskID != id || cr.Status != "COMPLETED" || cr.Result["a"] != 1.0 || cr.Result["b"] != 2.0 || cr.CompletedAt.IsZero() {
		t.Fatalf("result body %s", body)
	}
}

// TestRESTAuth pins who may read what: task reads take any valid token with a tenant
// (codeQ checks no scope there), queue stats need scope codeq:admin or role ADMIN.
func TestRESTAuth(t *testing.T) {
	b := startBroker(t, t.TempDir(), nil)
	id := create(t, b, &producerpb.CreateTask{})
	worker := mint(t, "acme", token.WorkerScopes)
	if code, body := get(t, b.HTTPAddr, worker, "/v1/codeq/tasks/"+id); code != http.StatusOK {
		t.Fatalf("task read with a worker token: HTTP %d %s", code, body)
	}
	code, body := get(t, b.HTTPAddr, "", "/v1/codeq/tasks/"+id)
	wantBody(t, code, body, http.StatusUnauthorized, "invalid token")
	code, body = get(t, b.HTTPAddr, mint(t, "", token.ScopeProduce), "/v1/codeq/tasks/"+id)
	wantBody(t, code, body, http.StatusForbidden, "invalid tenant claims")

	stats := "/v1/codeq/admin/queues/" + cmd
	code, body = get(t, b.HTTPAddr, mint(t, "acme", token.ScopeProduce), stats)
	wantBody(t, code, body, http.StatusUnauthorized, "unauthorized. Admin only")
	code, body = get(t, b.HTTPAddr, "", stats)
	wantBody(t, code, body, http.StatusUnauthorized, "missing Authorization header")
	code, body = get(t, b.HTTPAddr, mint(t, "acme", token.ScopeAdmin), stats)
	var s codeqQueueStats
	if code != http.StatusOK {
		t.Fatalf("stats with an admin token: HTTP %d %s", code, body)
	}
	strict(t, body, &s)
	if s != (codeqQueueStats{Command: cmd, Ready: 1}) {
		t.Fatalf("stats %+v, want 1 ready", s)
	}
}
