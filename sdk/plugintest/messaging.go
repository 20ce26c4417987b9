package plugintest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/sdk"
	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

// MessagingOptions tunes the messaging suite to a driver.
type MessagingOptions struct {
	// LeaseSeconds is the short lease used where the suite waits for expiry (default 2).
	LeaseSeconds int32
	// Wait bounds every wait for a delivery or state change (default 30s). Retries wait
	// for the driver's backoff, so configure the driver with a short one.
	Wait time.Duration
	// StopBackend and StartBackend, when both set, stop the backend and start it again
	// with its data (e.g. Redis with appendfsync always); the suite then checks that the
	// plugin reports unhealthy with a reason while it is down, that a consumer stream
	// survives, and that no task is lost or acked twice.
	StopBackend, StartBackend func()
	// SharedTenantQueues declares a backend that queues every tenant of a command
	// together (codeQ: one codeQ tenant per token). The suite then still checks that
	// idempotency keys, results and leases are tenant-scoped, but not that a consumer
	// subscribed to one tenant only gets that tenant's tasks, nor per-tenant Stats.
	SharedTenantQueues bool
	// BackendPicksIDs declares a backend that names tasks itself (real codeQ drops the
	// driver's task id): an id the plugin process did not enqueue cannot be looked up, so
	// GetResult of an unknown id answers FailedPrecondition (never NotFound, which the
	// host would read as a lost task) instead of NotFound.
	BackendPicksIDs bool
}

// Messaging runs the messaging conformance suite against the target binary: the
// contract of sdk/proto/messaging, whatever the backend.
func Messaging(t *testing.T, tg Target, o MessagingOptions) {
	if o.LeaseSeconds <= 0 {
		o.LeaseSeconds = 2
	}
	if o.Wait <= 0 {
		o.Wait = 30 * time.Second
	}
	c := Launch(t, tg, sdk.KindMessaging)
	s := &msuite{m: c.Messaging, o: o, conn: c}
	t.Run("RoundTrip", s.roundTrip)
	t.Run("Idempotency", s.idempotency)
	t.Run("CreditsBoundDeliveries", s.credits)
	t.Run("Priority", s.priority)
	t.Run("Delay", s.delay)
	t.Run("ExtendKeepsLease", s.extend)
	t.Run("LeaseExpiryRedelivers", s.leaseExpiry)
	t.Run("NackWithDelay", s.nack)
	t.Run("RetryThenDead", s.retryThenDead)
	t.Run("NonRetryableFailIsTerminal", s.failTerminal)
	t.Run("Stats", s.stats)
	t.Run("CommandSubset", s.commandSubset)
	t.Run("TenantIsolation", s.tenants)
	t.Run("BadInput", s.badInput)
	if o.StopBackend != nil && o.StartBackend != nil {
		t.Run("BackendRestart", s.restart)
	}
}

type msuite struct {
	m    messagingpb.MessagingClient
	o    MessagingOptions
	conn *sdk.Conn
}

var bg = context.Background()

// scope is one subtest's private tenant and command.
type scope struct {
	t      *testing.T
	s      *msuite
	tenant string
	cmd    string
}

func (s *msuite) scope(t *testing.T) *scope {
	return &scope{t: t, s: s, tenant: "tenant-" + randHex(4), cmd: "suite.cmd." + randHex(3)}
}

func (sc *scope) enqueue(task *messagingpb.Task) *messagingpb.EnqueueResponse {
	sc.t.Helper()
	if task.Tenant == "" {
		task.Tenant = sc.tenant
	}
	if task.Command == "" {
		task.Command = sc.cmd
	}
	r, err := sc.s.m.Enqueue(bg, &messagingpb.EnqueueRequest{Task: task})
	if err != nil {
		sc.t.Fatalf("Enqueue: %v", err)
	}
	if r.Id == "" {
		sc.t.Fatalf("Enqueue returned an empty id")
	}
	return r
}

func (sc *scope) consumer(lease, credits int32) *Consumer {
	return OpenConsumer(sc.t, sc.s.m, sc.tenant, []string{sc.cmd}, lease, credits, sc.s.o.Wait)
}

func (sc *scope) result(id string) *messagingpb.TaskResult {
	sc.t.Helper()
	r, err := sc.s.m.GetResult(bg, &messagingpb.GetResultRequest{Tenant: sc.tenant, Id: id})
	if err != nil {
		sc.t.Fatalf("GetResult %s: %v", id, err)
	}
	return r
}

func (sc *scope) wantStatus(id, want string) *messagingpb.TaskResult {
	sc.t.Helper()
	r := sc.result(id)
	if r.Status != want {
		sc.t.Fatalf("task %s status %q, want %q (error %q)", id, r.Status, want, r.Error)
	}
	return r
}

func (sc *scope) stats() *messagingpb.CommandStats {
	sc.t.Helper()
	r, err := sc.s.m.Stats(bg, &messagingpb.StatsRequest{Tenant: sc.tenant, Commands: []string{sc.cmd}})
	if err != nil {
		sc.t.Fatalf("Stats: %v", err)
	}
	for _, c := range r.Commands {
		if c.Command == sc.cmd {
			return c
		}
	}
	return &messagingpb.CommandStats{Command: sc.cmd}
}

func (sc *scope) wantStats(pending, inProgress, delayed, dead int64) {
	sc.t.Helper()
	st := sc.stats()
	got := [4]int64{st.Pending, st.InProgress, st.Delayed, st.Dead}
	if got != [4]int64{pending, inProgress, delayed, dead} {
		sc.t.Fatalf("Stats pending/in_progress/delayed/dead = %v, want %v", got, [4]int64{pending, inProgress, delayed, dead})
	}
}

func (sc *scope) ack(d *messagingpb.Delivery, result string) error {
	_, err := sc.s.m.Ack(bg, &messagingpb.AckRequest{Tenant: sc.tenant, Id: d.Task.Id, LeaseId: d.LeaseId, ResultJson: []byte(result)})
	return err
}

func (sc *scope) mustAck(d *messagingpb.Delivery) {
	sc.t.Helper()
	if err := sc.ack(d, `{"ok":true}`); err != nil {
		sc.t.Fatalf("Ack %s: %v", d.Task.Id, err)
	}
}

func (sc *scope) fail(d *messagingpb.Delivery, retryable bool) *messagingpb.FailResponse {
	sc.t.Helper()
	r, err := sc.s.m.Fail(bg, &messagingpb.FailRequest{Tenant: sc.tenant, Id: d.Task.Id, LeaseId: d.LeaseId, Error: "boom " + d.Task.Id, Retryable: retryable})
	if err != nil {
		sc.t.Fatalf("Fail %s: %v", d.Task.Id, err)
	}
	return r
}

func wantCode(t testing.TB, err error, want codes.Code, what string) {
	t.Helper()
	if status.Code(err) != want {
		t.Fatalf("%s: got %v, want code %s", what, err, want)
	}
}

func wantDelivery(t testing.TB, d *messagingpb.Delivery, id string, attempt int32) {
	t.Helper()
	if d.Task.GetId() != id || d.Task.GetAttempt() != attempt {
		t.Fatalf("delivery of task %s attempt %d, want task %s attempt %d", d.Task.GetId(), d.Task.GetAttempt(), id, attempt)
	}
	if d.LeaseId == "" {
		t.Fatalf("delivery of task %s has no lease id", id)
	}
}

func (s *msuite) roundTrip(t *testing.T) {
	sc := s.scope(t)
	payload := []byte(`{"input":{"n":1},"fn":"hello"}`)
	id := sc.enqueue(&messagingpb.Task{Payload: payload}).Id
	sc.wantStatus(id, "pending")
	c := sc.consumer(30, 1)
	d := c.Next()
	wantDelivery(t, d, id, 1)
	if !bytes.Equal(d.Task.Payload, payload) || d.Task.Command != sc.cmd || d.Task.Tenant != sc.tenant {
		t.Fatalf("delivered task %+v, want payload %s command %s tenant %s", d.Task, payload, sc.cmd, sc.tenant)
	}
	if d.LeaseExpiresMs < time.Now().UnixMilli() {
		t.Fatalf("lease_expires_ms %d is in the past", d.LeaseExpiresMs)
	}
	sc.wantStatus(id, "in_progress")
	result := `{"status":"ok","output":42}`
	if err := sc.ack(d, result); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	r := sc.wantStatus(id, "completed")
	if !SameJSON(r.ResultJson, []byte(result)) || r.Attempts != 1 {
		t.Fatalf("GetResult = %s attempts %d, want %s attempts 1", r.ResultJson, r.Attempts, result)
	}
	_, err := s.m.GetResult(bg, &messagingpb.GetResultRequest{Tenant: sc.tenant, Id: "no-such-task-" + randHex(4)})
	if s.o.BackendPicksIDs {
		wantCode(t, err, codes.FailedPrecondition, "GetResult of an unknown id (BackendPicksIDs)")
	} else {
		wantCode(t, err, codes.NotFound, "GetResult of an unknown id")
	}
	c.None(300*time.Millisecond, "an acked task must not be delivered again")
}

func (s *msuite) idempotency(t *testing.T) {
	sc := s.scope(t)
	a := sc.enqueue(&messagingpb.Task{Payload: []byte(`{}`), IdempotencyKey: "key-1"})
	b := sc.enqueue(&messagingpb.Task{Payload: []byte(`{"other":1}`), IdempotencyKey: "key-1"})
	if a.Duplicate || !b.Duplicate || a.Id != b.Id {
		t.Fatalf("same idempotency key: first %+v, second %+v; want the same id, second duplicate", a, b)
	}
	c := sc.enqueue(&messagingpb.Task{Payload: []byte(`{}`), IdempotencyKey: "key-2"})
	if c.Duplicate || c.Id == a.Id {
		t.Fatalf("another key gave %+v, want a new task", c)
	}
	sc.wantStats(2, 0, 0, 0)
}

func (s *msuite) credits(t *testing.T) {
	sc := s.scope(t)
	for i := 0; i < 5; i++ {
		sc.enqueue(&messagingpb.Task{Payload: []byte(fmt.Sprintf(`{"i":%d}`, i))})
	}
	c := sc.consumer(30, 2)
	d1, d2 := c.Next(), c.Next()
	c.None(500*time.Millisecond, "2 credits granted, a third delivery")
	sc.wantStats(3, 2, 0, 0)
	sc.mustAck(d1)
	c.None(300*time.Millisecond, "an Ack is not a credit")
	c.Credit(1)
	d3 := c.Next()
	c.None(300*time.Millisecond, "3 credits granted, a fourth delivery")
	seen := map[string]bool{d1.Task.Id: true, d2.Task.Id: true, d3.Task.Id: true}
	if len(seen) != 3 {
		t.Fatalf("the same task was delivered twice: %v", seen)
	}
	sc.mustAck(d2)
	sc.mustAck(d3)
	c.Credit(5)
	c.Next()
	c.Next()
	sc.wantStats(0, 2, 0, 0)
}

func (s *msuite) priority(t *testing.T) {
	sc := s.scope(t)
	low := sc.enqueue(&messagingpb.Task{Payload: []byte(`{}`), Priority: 0}).Id
	high := sc.enqueue(&messagingpb.Task{Payload: []byte(`{}`), Priority: 5}).Id
	low2 := sc.enqueue(&messagingpb.Task{Payload: []byte(`{}`), Priority: 0}).Id
	c := sc.consumer(30, 1)
	for _, want := range []string{high, low, low2} {
		d := c.Next()
		if d.Task.Id != want {
			t.Fatalf("delivered %s, want %s (higher priority first, then FIFO)", d.Task.Id, want)
		}
		sc.mustAck(d)
		c.Credit(1)
	}
}

func (s *msuite) delay(t *testing.T) {
	sc := s.scope(t)
	start := time.Now()
	id := sc.enqueue(&messagingpb.Task{Payload: []byte(`{}`), DelayMs: 1500}).Id
	sc.wantStatus(id, "delayed")
	sc.wantStats(0, 0, 1, 0)
	c := sc.consumer(30, 1)
	d := c.Next()
	wantDelivery(t, d, id, 1)
	if el := time.Since(start); el < 1400*time.Millisecond {
		t.Fatalf("a task delayed 1.5s was delivered after %s", el)
	}
	sc.mustAck(d)
}

func (s *msuite) extend(t *testing.T) {
	sc := s.scope(t)
	lease := s.o.LeaseSeconds
	id := sc.enqueue(&messagingpb.Task{Payload: []byte(`{}`)}).Id
	c := sc.consumer(lease, 1)
	d := c.Next()
	r, err := s.m.Extend(bg, &messagingpb.ExtendRequest{Tenant: sc.tenant, Id: id, LeaseId: d.LeaseId, Seconds: 60})
	if err != nil {
		t.Fatalf("Extend: %v", err)
	}
	if r.LeaseExpiresMs < d.LeaseExpiresMs+30_000 {
		t.Fatalf("Extend by 60s moved the lease from %d to %d", d.LeaseExpiresMs, r.LeaseExpiresMs)
	}
	other := sc.consumer(lease, 1)
	other.None(time.Duration(lease)*time.Second+1500*time.Millisecond, "an extended lease was redelivered")
	sc.wantStatus(id, "in_progress")
	sc.mustAck(d)
	sc.wantStatus(id, "completed")
}

func (s *msuite) leaseExpiry(t *testing.T) {
	sc := s.scope(t)
	id := sc.enqueue(&messagingpb.Task{Payload: []byte(`{}`), MaxAttempts: 5}).Id
	c := sc.consumer(s.o.LeaseSeconds, 1)
	first := c.Next()
	wantDelivery(t, first, id, 1)
	other := sc.consumer(s.o.LeaseSeconds, 1)
	second := other.Next()
	wantDelivery(t, second, id, 2)
	if second.LeaseId == first.LeaseId {
		t.Fatalf("redelivery reused lease id %s", first.LeaseId)
	}
	wantCode(t, sc.ack(first, `{"late":true}`), codes.FailedPrecondition, "Ack with the expired, redelivered lease")
	_, err := s.m.Extend(bg, &messagingpb.ExtendRequest{Tenant: sc.tenant, Id: id, LeaseId: first.LeaseId, Seconds: 10})
	wantCode(t, err, codes.FailedPrecondition, "Extend with a stale lease")
	_, err = s.m.Fail(bg, &messagingpb.FailRequest{Tenant: sc.tenant, Id: id, LeaseId: first.LeaseId, Error: "x", Retryable: true})
	wantCode(t, err, codes.FailedPrecondition, "Fail with a stale lease")
	sc.mustAck(second)
	r := sc.wantStatus(id, "completed")
	if r.Attempts != 2 || !SameJSON(r.ResultJson, []byte(`{"ok":true}`)) {
		t.Fatalf("result %s attempts %d, want the second delivery's ack (attempts 2)", r.ResultJson, r.Attempts)
	}
}

func (s *msuite) nack(t *testing.T) {
	sc := s.scope(t)
	id := sc.enqueue(&messagingpb.Task{Payload: []byte(`{}`), MaxAttempts: 3}).Id
	c := sc.consumer(30, 2)
	d := c.Next()
	start := time.Now()
	r, err := s.m.Nack(bg, &messagingpb.NackRequest{Tenant: sc.tenant, Id: id, LeaseId: d.LeaseId, DelaySeconds: 1, Reason: "busy"})
	if err != nil || r.Dead {
		t.Fatalf("Nack: %v dead=%v", err, r.GetDead())
	}
	sc.wantStatus(id, "delayed")
	sc.wantStats(0, 0, 1, 0)
	d2 := c.Next()
	wantDelivery(t, d2, id, 2)
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Fatalf("Nack with delay 1s redelivered after %s", el)
	}
	wantCode(t, sc.ack(d, "{}"), codes.FailedPrecondition, "Ack with the nacked lease")
	sc.mustAck(d2)
}

func (s *msuite) retryThenDead(t *testing.T) {
	sc := s.scope(t)
	id := sc.enqueue(&messagingpb.Task{Payload: []byte(`{}`), MaxAttempts: 2}).Id
	c := sc.consumer(30, 3)
	d := c.Next()
	wantDelivery(t, d, id, 1)
	if sc.fail(d, true).Dead {
		t.Fatalf("retryable Fail on attempt 1 of 2 dead-lettered the task")
	}
	if st := sc.result(id).Status; st != "delayed" && st != "pending" && st != "in_progress" {
		t.Fatalf("after a retryable Fail the task is %q, want delayed/pending", st)
	}
	d = c.Next()
	wantDelivery(t, d, id, 2)
	if !sc.fail(d, true).Dead {
		t.Fatalf("retryable Fail on attempt 2 of 2 did not dead-letter the task")
	}
	r := sc.wantStatus(id, "dead")
	if r.Attempts != 2 || r.Error == "" {
		t.Fatalf("dead task: attempts %d error %q, want 2 and the error", r.Attempts, r.Error)
	}
	sc.wantStats(0, 0, 0, 1)
	c.None(300*time.Millisecond, "a dead task was delivered")
}

func (s *msuite) failTerminal(t *testing.T) {
	sc := s.scope(t)
	id := sc.enqueue(&messagingpb.Task{Payload: []byte(`{}`), MaxAttempts: 5}).Id
	c := sc.consumer(30, 2)
	d := c.Next()
	if sc.fail(d, false).Dead {
		t.Fatalf("a non-retryable Fail reported dead")
	}
	r := sc.wantStatus(id, "failed")
	if r.Error != "boom "+id {
		t.Fatalf("failed task error %q, want %q", r.Error, "boom "+id)
	}
	sc.wantStats(0, 0, 0, 0)
	c.None(300*time.Millisecond, "a failed task was delivered again")
}

func (s *msuite) stats(t *testing.T) {
	sc := s.scope(t)
	sc.wantStats(0, 0, 0, 0)
	dead := sc.enqueue(&messagingpb.Task{Payload: []byte(`{}`), MaxAttempts: 1, Priority: 9}).Id
	c := sc.consumer(30, 1)
	d := c.Next()
	wantDelivery(t, d, dead, 1)
	if !sc.fail(d, true).Dead {
		t.Fatalf("retryable Fail at max_attempts 1 did not dead-letter")
	}
	busy := sc.enqueue(&messagingpb.Task{Payload: []byte(`{}`), Priority: 9}).Id
	c.Credit(1)
	wantDelivery(t, c.Next(), busy, 1)
	sc.enqueue(&messagingpb.Task{Payload: []byte(`{}`)})
	sc.enqueue(&messagingpb.Task{Payload: []byte(`{}`)})
	sc.enqueue(&messagingpb.Task{Payload: []byte(`{}`), DelayMs: 60_000})
	sc.wantStats(2, 1, 1, 1)
}

func (s *msuite) tenants(t *testing.T) {
	a, b := s.scope(t), s.scope(t)
	b.cmd = a.cmd
	id := a.enqueue(&messagingpb.Task{Payload: []byte(`{}`), IdempotencyKey: "shared"}).Id
	if r := b.enqueue(&messagingpb.Task{Payload: []byte(`{}`), IdempotencyKey: "shared"}); r.Duplicate || r.Id == id {
		t.Fatalf("an idempotency key of tenant A deduplicated tenant B's task: %+v", r)
	}
	_, err := s.m.GetResult(bg, &messagingpb.GetResultRequest{Tenant: b.tenant, Id: id})
	wantCode(t, err, codes.NotFound, "GetResult of tenant A's task as tenant B")
	if s.o.SharedTenantQueues {
		ca := a.consumer(30, 1)
		d := ca.Next()
		wantDelivery(t, d, id, 1)
		wantCode(t, b.ack(&messagingpb.Delivery{Task: &messagingpb.Task{Id: id}, LeaseId: d.LeaseId}, "{}"),
			codes.NotFound, "Ack of tenant A's task as tenant B")
		t.Log("SharedTenantQueues: tenant-filtered consumers and per-tenant Stats not checked")
		return
	}
	cb := b.consumer(30, 5)
	db := cb.Next()
	if db.Task.Tenant != b.tenant {
		t.Fatalf("tenant B's consumer got a task of tenant %q", db.Task.Tenant)
	}
	cb.None(300*time.Millisecond, "tenant B's consumer got tenant A's task")
	wantCode(t, b.ack(&messagingpb.Delivery{Task: &messagingpb.Task{Id: id}, LeaseId: db.LeaseId}, "{}"),
		codes.NotFound, "Ack of tenant A's task as tenant B")
	a.wantStats(1, 0, 0, 0)
	b.wantStats(0, 1, 0, 0)
	ca := a.consumer(30, 1)
	wantDelivery(t, ca.Next(), id, 1)
}

func (s *msuite) badInput(t *testing.T) {
	sc := s.scope(t)
	_, err := s.m.Enqueue(bg, &messagingpb.EnqueueRequest{Task: &messagingpb.Task{Tenant: sc.tenant, Payload: []byte(`{}`)}})
	wantCode(t, err, codes.InvalidArgument, "Enqueue without a command")
	_, err = s.m.Enqueue(bg, &messagingpb.EnqueueRequest{Task: &messagingpb.Task{Command: sc.cmd, Payload: []byte(`{}`)}})
	wantCode(t, err, codes.InvalidArgument, "Enqueue without a tenant")
	st, err := s.m.Consume(bg)
	if err != nil {
		t.Fatalf("Consume: %v", err)
	}
	_ = st.Send(&messagingpb.ConsumeRequest{Msg: &messagingpb.ConsumeRequest_Subscribe{Subscribe: &messagingpb.Subscribe{Tenant: sc.tenant}}})
	_, err = st.Recv()
	wantCode(t, err, codes.InvalidArgument, "Subscribe without commands")
}
