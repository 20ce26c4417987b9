package broker_test

import (
	"testing"
	"time"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/broker"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/token"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/producerpb"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/workerpb"
)

func worker(t *testing.T, b *broker.Broker, id string) *rawWorker {
	return openWorker(t, b, mint(t, "acme", token.WorkerScopes), id)
}

// A Ready with no task is held and answered by the next create; a held Ready is dropped
// silently after ReadyHold (as codeQ does), so a worker must re-send it.
func TestReadyHeldThenDropped(t *testing.T) {
	b := startBroker(t, t.TempDir(), func(c *broker.Config) { c.ReadyHold = 300 * time.Millisecond })
	w := worker(t, b, "w1")
	w.ready(1, 30)
	id := create(t, b, &producerpb.CreateTask{Payload: []byte(`{"n":1}`)})
	if got := w.task(); got.Id != id || got.Attempts != 1 || string(got.Payload) != `{"n":1}` || got.TenantId != "acme" {
		t.Fatalf("held Ready answered with %v, want task %s attempt 1", got, id)
	}
	w.ready(1, 30)
	w.quiet(600 * time.Millisecond) // longer than ReadyHold: the Ready is gone
	id2 := create(t, b, &producerpb.CreateTask{})
	w.quiet(200 * time.Millisecond)
	if s := stats(t, b); s.Ready != 1 {
		t.Fatalf("task claimed by a dropped Ready: %+v", s)
	}
	w.ready(1, 30) // the re-sent Ready gets it
	if got := w.task(); got.Id != id2 {
		t.Fatalf("re-sent Ready got %s, want %s", got.Id, id2)
	}
}

// Ready.count > 1 is answered by one TaskBatch with what is there, never more than count.
func TestReadyBatchNeverExceedsCount(t *testing.T) {
	b := startBroker(t, t.TempDir(), nil)
	for range 5 {
		create(t, b, &producerpb.CreateTask{})
	}
	w := worker(t, b, "w1")
	w.ready(3, 30)
	if n := len(w.next().GetTaskBatch().GetTasks()); n != 3 {
		t.Fatalf("batch of %d, want 3", n)
	}
	w.ready(10, 30)
	if n := len(w.next().GetTaskBatch().GetTasks()); n != 2 {
		t.Fatalf("batch of %d, want the 2 left", n)
	}
}

// A Ready with no commands, from a token that may claim any command, matches nothing
// and gets no answer, as in codeQ (no error either).
func TestEmptyCommandsDeliverNothing(t *testing.T) {
	b := startBroker(t, t.TempDir(), nil)
	w := worker(t, b, "w1")
	w.send(&workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Ready{Ready: &workerpb.Ready{Count: 1}}})
	create(t, b, &producerpb.CreateTask{})
	w.quiet(300 * time.Millisecond)
}

func TestCompleted(t *testing.T) {
	b := startBroker(t, t.TempDir(), nil)
	id := create(t, b, &producerpb.CreateTask{})
	if code := rest(t, b, "/v1/codeq/tasks/"+id+"/result", nil); code != 404 {
		t.Fatalf("result before completion: HTTP %d, want 404", code)
	}
	w := worker(t, b, "w1")
	w.ready(1, 30)
	w.task()
	other := worker(t, b, "w2")
	if a := other.result(id, "COMPLETED", []byte(`{"v":1}`), ""); a.Ok || a.ErrorMessage != "not-owner" {
		t.Fatalf("result from another worker: %v", a)
	}
	for _, bad := range []string{"", "[1]", `"x"`, "nope"} {
		if a := w.result(id, "COMPLETED", []byte(bad), ""); a.Ok {
			t.Fatalf("COMPLETED with result_json %q accepted", bad)
		}
	}
	if s := stats(t, b); s.InProgress != 1 {
		t.Fatalf("stats while leased: %+v", s)
	}
	if a := w.result(id, "COMPLETED", []byte(`{"v":1}`), ""); !a.Ok {
		t.Fatalf("COMPLETED refused: %v", a)
	}
	var r resultBody
	if code := rest(t, b, "/v1/codeq/tasks/"+id+"/result", &r); code != 200 || r.Result.Status != "COMPLETED" || string(r.Result.Result) != `{"v":1}` || r.Task["id"] != id {
		t.Fatalf("result: HTTP %d %+v", code, r)
	}
	if a := w.result(id, "COMPLETED", []byte(`{"v":2}`), ""); a.Ok || a.ErrorMessage != "not-in-progress" {
		t.Fatalf("second result: %v", a)
	}
	if s := stats(t, b); s != (broker.QueueStats{Command: cmd}) {
		t.Fatalf("stats after completion: %+v", s)
	}
}

func TestFailedIsTerminal(t *testing.T) {
	b := startBroker(t, t.TempDir(), nil)
	id := create(t, b, &producerpb.CreateTask{MaxAttempts: 3})
	w := worker(t, b, "w1")
	w.ready(1, 30)
	w.task()
	if a := w.result(id, "FAILED", nil, ""); a.Ok {
		t.Fatal("FAILED without error accepted")
	}
	if a := w.result(id, "FAILED", nil, "boom"); !a.Ok {
		t.Fatalf("FAILED refused: %v", a)
	}
	var r resultBody
	if code := rest(t, b, "/v1/codeq/tasks/"+id+"/result", &r); code != 200 || r.Result.Status != "FAILED" || r.Result.Error != "boom" {
		t.Fatalf("result: HTTP %d %+v", code, r)
	}
	w.ready(1, 30)
	w.quiet(300 * time.Millisecond) // no retry
	if s := stats(t, b); s.DLQ != 0 || s.Ready != 0 {
		t.Fatalf("FAILED must not retry or dead-letter: %+v", s)
	}
}

// Nack with delay 0 applies the server backoff. As in codeQ, claims and Nacks both count
// attempts, and the Nack that brings them to max_attempts dead-letters the task.
func TestNackBackoffThenDeadLetter(t *testing.T) {
	b := startBroker(t, t.TempDir(), nil)
	id := create(t, b, &producerpb.CreateTask{MaxAttempts: 4})
	w := worker(t, b, "w1")
	w.ready(1, 30)
	w.task()
	if a := w.nack(id, 0); !a.Ok || a.Dlq {
		t.Fatalf("first nack: %v", a)
	}
	if s := stats(t, b); s.Delayed != 1 {
		t.Fatalf("after nack with backoff: %+v, want 1 delayed", s)
	}
	w.ready(1, 30)
	if got := w.task(); got.Id != id || got.Attempts != 3 {
		t.Fatalf("redelivery %v, want attempts 3 (claim, nack, claim)", got)
	}
	if a := w.nack(id, 0); !a.Ok || !a.Dlq {
		t.Fatalf("nack at max attempts: %v, want dlq", a)
	}
	if s := stats(t, b); s.DLQ != 1 || s.Delayed != 0 {
		t.Fatalf("stats: %+v, want 1 dead", s)
	}
	var task map[string]any
	if rest(t, b, "/v1/codeq/tasks/"+id, &task); task["status"] != "FAILED" || task["lastKnownLocation"] != "DLQ_SET" || task["error"] != "try later" || task["attempts"] != 4.0 {
		t.Fatalf("dead task: %v", task)
	}
}

// A heartbeat keeps a lease alive past its first expiry; without one the reaper requeues.
func TestHeartbeatAndLeaseExpiry(t *testing.T) {
	b := startBroker(t, t.TempDir(), nil)
	id := create(t, b, &producerpb.CreateTask{})
	w := worker(t, b, "w1")
	w.ready(1, 1)
	w.task()
	w.send(&workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Heartbeat{Heartbeat: &workerpb.Heartbeat{TaskId: id, ExtendSeconds: 30}}})
	if a := w.next().GetHeartbeatAck(); !a.GetOk() {
		t.Fatalf("heartbeat: %v", a)
	}
	w.send(&workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Heartbeat{Heartbeat: &workerpb.Heartbeat{TaskId: "nope", ExtendSeconds: 30}}})
	if a := w.next().GetHeartbeatAck(); a.GetOk() {
		t.Fatal("heartbeat on an unknown task accepted")
	}
	w.ready(1, 1)
	w.quiet(1500 * time.Millisecond) // past the original 1 s lease: still held
	if s := stats(t, b); s.InProgress != 1 {
		t.Fatalf("extended lease lost: %+v", s)
	}
	id2 := create(t, b, &producerpb.CreateTask{})
	if got := w.task(); got.Id != id2 {
		t.Fatalf("got %s, want %s", got.Id, id2)
	}
	// No heartbeat for id2: after 1 s the reaper requeues it and it is claimed again.
	w.ready(1, 30)
	if got := w.task(); got.Id != id2 || got.Attempts != 3 {
		t.Fatalf("after lease expiry got %v, want %s attempts 3 (claim, expiry, claim)", got, id2)
	}
}

// Abandon puts the task straight back; as in codeQ the abandoned claim stays counted.
func TestAbandon(t *testing.T) {
	b := startBroker(t, t.TempDir(), nil)
	id := create(t, b, &producerpb.CreateTask{})
	w := worker(t, b, "w1")
	w.ready(1, 30)
	w.task()
	w.send(&workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Abandon{Abandon: &workerpb.Abandon{TaskId: id}}})
	if a := w.next().GetAbandonAck(); !a.GetOk() {
		t.Fatalf("abandon: %v", a)
	}
	w2 := worker(t, b, "w2")
	w2.ready(1, 30)
	if got := w2.task(); got.Id != id || got.Attempts != 2 {
		t.Fatalf("after abandon got %v, want %s attempts 2", got, id)
	}
}

// Idempotency keys return the first task; a client task id (a field codeQ's proto does
// not have; the Sous driver sends the invocation id) names the task, once.
func TestCreateIdempotent(t *testing.T) {
	b := startBroker(t, t.TempDir(), nil)
	a := create(t, b, &producerpb.CreateTask{IdempotencyKey: "k"})
	if c := create(t, b, &producerpb.CreateTask{IdempotencyKey: "k"}); c != a {
		t.Fatalf("same idempotency key: %s then %s", a, c)
	}
	c1 := create(t, b, &producerpb.CreateTask{TaskId: "mine"})
	c2 := create(t, b, &producerpb.CreateTask{TaskId: "mine"})
	if c1 != "mine" || c2 != "mine" {
		t.Fatalf("client task ids: %s then %s, want mine once", c1, c2)
	}
	if s := stats(t, b); s.Ready != 2 {
		t.Fatalf("stats %+v, want 2 tasks", s)
	}
}

// A broker restart keeps pending and leased tasks (leases keep their owner).
func TestRestartKeepsTasks(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, dir, nil)
	leased := create(t, b, &producerpb.CreateTask{})
	pending := create(t, b, &producerpb.CreateTask{Priority: -1})
	w := worker(t, b, "w1")
	w.ready(1, 30)
	if got := w.task(); got.Id != leased {
		t.Fatalf("claimed %s, want %s", got.Id, leased)
	}
	_ = b.Close()
	b2 := startBroker(t, dir, nil)
	if s := stats(t, b2); s.Ready != 1 || s.InProgress != 1 {
		t.Fatalf("after restart: %+v", s)
	}
	w2 := worker(t, b2, "w1") // same worker id: it still owns the lease
	if a := w2.result(leased, "COMPLETED", []byte(`{}`), ""); !a.Ok {
		t.Fatalf("complete leased task after restart: %v", a)
	}
	w2.ready(1, 30)
	if got := w2.task(); got.Id != pending {
		t.Fatalf("got %s, want %s", got.Id, pending)
	}
}

// A delayed create is counted as delayed, then becomes claimable exactly once.
func TestDelayedCreate(t *testing.T) {
	b := startBroker(t, t.TempDir(), nil)
	id := create(t, b, &producerpb.CreateTask{DelaySeconds: 1})
	if s := stats(t, b); s.Delayed != 1 || s.Ready != 0 {
		t.Fatalf("stats %+v, want 1 delayed", s)
	}
	w := worker(t, b, "w1")
	w.ready(5, 30)
	if got := w.next().GetTaskBatch().GetTasks(); len(got) != 1 || got[0].Id != id {
		t.Fatalf("got %v, want only %s", got, id)
	}
	w.ready(5, 30)
	w.quiet(300 * time.Millisecond)
}

// Finished tasks are deleted after ResultTTL, together with their idempotency key.
func TestResultRetention(t *testing.T) {
	b := startBroker(t, t.TempDir(), func(c *broker.Config) { c.ResultTTL = 200 * time.Millisecond })
	id := create(t, b, &producerpb.CreateTask{IdempotencyKey: "once"})
	w := worker(t, b, "w1")
	w.ready(1, 30)
	w.task()
	if a := w.result(id, "COMPLETED", []byte(`{"v":1}`), ""); !a.Ok {
		t.Fatal(a)
	}
	deadline := time.Now().Add(10 * time.Second)
	for rest(t, b, "/v1/codeq/tasks/"+id+"/result", nil) != 404 {
		if time.Now().After(deadline) {
			t.Fatal("result kept past its retention")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if again := create(t, b, &producerpb.CreateTask{IdempotencyKey: "once"}); again == id {
		t.Fatal("idempotency key outlived its task")
	}
}
