package plugintest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sous-run/sous/sdk"
)

// MessagingOptions tunes the messaging suite to a driver.
type MessagingOptions struct {
	// Lease is the short lease used where the suite waits for expiry (default 2s).
	Lease time.Duration
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
	// Result of an unknown id answers sdk.ErrRefused (never sdk.ErrNotFound, which the
	// host would read as a lost task) instead of sdk.ErrNotFound.
	BackendPicksIDs bool
}

// Messaging runs the messaging conformance suite against the target binary: the
// contract of sdk.Messaging, whatever the backend.
func Messaging(t *testing.T, tg Target, o MessagingOptions) {
	if o.Lease <= 0 {
		o.Lease = 2 * time.Second
	}
	if o.Wait <= 0 {
		o.Wait = 30 * time.Second
	}
	c := Launch(t, tg, sdk.KindMessaging)
	s := &msuite{m: c.Messaging, o: o, p: c}
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
	m sdk.Messaging
	o MessagingOptions
	p *Plugin
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

func (sc *scope) enqueue(task sdk.Task) sdk.Enqueued {
	sc.t.Helper()
	if task.Tenant == "" {
		task.Tenant = sc.tenant
	}
	if task.Command == "" {
		task.Command = sc.cmd
	}
	r, err := sc.s.m.Enqueue(bg, task)
	if err != nil {
		sc.t.Fatalf("Enqueue: %v", err)
	}
	if r.ID == "" {
		sc.t.Fatalf("Enqueue returned an empty id")
	}
	return r
}

func (sc *scope) consumer(lease time.Duration, credits int) *Consumer {
	return OpenConsumer(sc.t, sc.s.m, sc.tenant, []string{sc.cmd}, lease, credits, sc.s.o.Wait)
}

func (sc *scope) result(id string) sdk.TaskResult {
	sc.t.Helper()
	r, err := sc.s.m.Result(bg, sc.tenant, id)
	if err != nil {
		sc.t.Fatalf("GetResult %s: %v", id, err)
	}
	return r
}

func (sc *scope) wantStatus(id, want string) sdk.TaskResult {
	sc.t.Helper()
	r := sc.result(id)
	if r.Status != want {
		sc.t.Fatalf("task %s status %q, want %q (error %q)", id, r.Status, want, r.Error)
	}
	return r
}

func (sc *scope) stats() sdk.CommandStats {
	sc.t.Helper()
	r, err := sc.s.m.Stats(bg, sc.tenant, []string{sc.cmd})
	if err != nil {
		sc.t.Fatalf("Stats: %v", err)
	}
	for _, c := range r {
		if c.Command == sc.cmd {
			return c
		}
	}
	return sdk.CommandStats{Command: sc.cmd}
}

func (sc *scope) wantStats(pending, inProgress, delayed, dead int64) {
	sc.t.Helper()
	st := sc.stats()
	got := [4]int64{st.Pending, st.InProgress, st.Delayed, st.Dead}
	if got != [4]int64{pending, inProgress, delayed, dead} {
		sc.t.Fatalf("Stats pending/in_progress/delayed/dead = %v, want %v", got, [4]int64{pending, inProgress, delayed, dead})
	}
}

// ack acks l as this scope's tenant (whatever tenant l names).
func (sc *scope) ack(l sdk.Lease, result string) error {
	l.Tenant = sc.tenant
	return sc.s.m.Ack(bg, l, []byte(result))
}

func (sc *scope) mustAck(d sdk.Delivery) {
	sc.t.Helper()
	if err := sc.ack(d.Lease, `{"ok":true}`); err != nil {
		sc.t.Fatalf("Ack %s: %v", d.Task.ID, err)
	}
}

// fail fails d and returns whether the task was dead-lettered.
func (sc *scope) fail(d sdk.Delivery, retryable bool) bool {
	sc.t.Helper()
	dead, err := sc.s.m.Fail(bg, d.Lease, "boom "+d.Task.ID, retryable)
	if err != nil {
		sc.t.Fatalf("Fail %s: %v", d.Task.ID, err)
	}
	return dead
}

// wantKind fails unless err wraps the error kind want (sdk.ErrNotFound, ...).
func wantKind(t testing.TB, err error, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
}

func wantDelivery(t testing.TB, d sdk.Delivery, id string, attempt int) {
	t.Helper()
	if d.Task.ID != id || d.Task.Attempt != attempt {
		t.Fatalf("delivery of task %s attempt %d, want task %s attempt %d", d.Task.ID, d.Task.Attempt, id, attempt)
	}
	if d.Lease.ID == "" {
		t.Fatalf("delivery of task %s has no lease id", id)
	}
}

func (s *msuite) roundTrip(t *testing.T) {
	sc := s.scope(t)
	payload := []byte(`{"input":{"n":1},"fn":"hello"}`)
	id := sc.enqueue(sdk.Task{Payload: payload}).ID
	sc.wantStatus(id, "pending")
	c := sc.consumer(30*time.Second, 1)
	d := c.Next()
	wantDelivery(t, d, id, 1)
	if !bytes.Equal(d.Task.Payload, payload) || d.Task.Command != sc.cmd || d.Task.Tenant != sc.tenant {
		t.Fatalf("delivered task %+v, want payload %s command %s tenant %s", d.Task, payload, sc.cmd, sc.tenant)
	}
	if d.Lease.Expires.Before(time.Now()) {
		t.Fatalf("lease expiry %s is in the past", d.Lease.Expires)
	}
	sc.wantStatus(id, "in_progress")
	result := `{"status":"ok","output":42}`
	if err := sc.ack(d.Lease, result); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	r := sc.wantStatus(id, "completed")
	if !SameJSON(r.Result, []byte(result)) || r.Attempts != 1 {
		t.Fatalf("GetResult = %s attempts %d, want %s attempts 1", r.Result, r.Attempts, result)
	}
	_, err := s.m.Result(bg, sc.tenant, "no-such-task-"+randHex(4))
	if s.o.BackendPicksIDs {
		wantKind(t, err, sdk.ErrRefused, "Result of an unknown id (BackendPicksIDs)")
	} else {
		wantKind(t, err, sdk.ErrNotFound, "Result of an unknown id")
	}
	c.None(300*time.Millisecond, "an acked task must not be delivered again")
}

func (s *msuite) idempotency(t *testing.T) {
	sc := s.scope(t)
	a := sc.enqueue(sdk.Task{Payload: []byte(`{}`), IdempotencyKey: "key-1"})
	b := sc.enqueue(sdk.Task{Payload: []byte(`{"other":1}`), IdempotencyKey: "key-1"})
	if a.Duplicate || !b.Duplicate || a.ID != b.ID {
		t.Fatalf("same idempotency key: first %+v, second %+v; want the same id, second duplicate", a, b)
	}
	c := sc.enqueue(sdk.Task{Payload: []byte(`{}`), IdempotencyKey: "key-2"})
	if c.Duplicate || c.ID == a.ID {
		t.Fatalf("another key gave %+v, want a new task", c)
	}
	sc.wantStats(2, 0, 0, 0)
}

func (s *msuite) credits(t *testing.T) {
	sc := s.scope(t)
	for i := 0; i < 5; i++ {
		sc.enqueue(sdk.Task{Payload: []byte(fmt.Sprintf(`{"i":%d}`, i))})
	}
	c := sc.consumer(30*time.Second, 2)
	d1, d2 := c.Next(), c.Next()
	c.None(500*time.Millisecond, "2 credits granted, a third delivery")
	sc.wantStats(3, 2, 0, 0)
	sc.mustAck(d1)
	c.None(300*time.Millisecond, "an Ack is not a credit")
	c.Credit(1)
	d3 := c.Next()
	c.None(300*time.Millisecond, "3 credits granted, a fourth delivery")
	seen := map[string]bool{d1.Task.ID: true, d2.Task.ID: true, d3.Task.ID: true}
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
	low := sc.enqueue(sdk.Task{Payload: []byte(`{}`), Priority: 0}).ID
	high := sc.enqueue(sdk.Task{Payload: []byte(`{}`), Priority: 5}).ID
	low2 := sc.enqueue(sdk.Task{Payload: []byte(`{}`), Priority: 0}).ID
	c := sc.consumer(30*time.Second, 1)
	for _, want := range []string{high, low, low2} {
		d := c.Next()
		if d.Task.ID != want {
			t.Fatalf("delivered %s, want %s (higher priority first, then FIFO)", d.Task.ID, want)
		}
		sc.mustAck(d)
		c.Credit(1)
	}
}

func (s *msuite) delay(t *testing.T) {
	sc := s.scope(t)
	start := time.Now()
	id := sc.enqueue(sdk.Task{Payload: []byte(`{}`), Delay: 1500 * time.Millisecond}).ID
	sc.wantStatus(id, "delayed")
	sc.wantStats(0, 0, 1, 0)
	c := sc.consumer(30*time.Second, 1)
	d := c.Next()
	wantDelivery(t, d, id, 1)
	if el := time.Since(start); el < 1400*time.Millisecond {
		t.Fatalf("a task delayed 1.5s was delivered after %s", el)
	}
	sc.mustAck(d)
}

func (s *msuite) extend(t *testing.T) {
	sc := s.scope(t)
	lease := s.o.Lease
	id := sc.enqueue(sdk.Task{Payload: []byte(`{}`)}).ID
	c := sc.consumer(lease, 1)
	d := c.Next()
	until, err := s.m.Extend(bg, d.Lease, time.Minute)
	if err != nil {
		t.Fatalf("Extend: %v", err)
	}
	if until.Before(d.Lease.Expires.Add(30 * time.Second)) {
		t.Fatalf("Extend by 60s moved the lease from %s to %s", d.Lease.Expires, until)
	}
	other := sc.consumer(lease, 1)
	other.None(lease+1500*time.Millisecond, "an extended lease was redelivered")
	sc.wantStatus(id, "in_progress")
	sc.mustAck(d)
	sc.wantStatus(id, "completed")
}

func (s *msuite) leaseExpiry(t *testing.T) {
	sc := s.scope(t)
	id := sc.enqueue(sdk.Task{Payload: []byte(`{}`), MaxAttempts: 5}).ID
	c := sc.consumer(s.o.Lease, 1)
	first := c.Next()
	wantDelivery(t, first, id, 1)
	other := sc.consumer(s.o.Lease, 1)
	second := other.Next()
	wantDelivery(t, second, id, 2)
	if second.Lease.ID == first.Lease.ID {
		t.Fatalf("redelivery reused lease id %s", first.Lease.ID)
	}
	wantKind(t, sc.ack(first.Lease, `{"late":true}`), sdk.ErrRefused, "Ack with the expired, redelivered lease")
	_, err := s.m.Extend(bg, first.Lease, 10*time.Second)
	wantKind(t, err, sdk.ErrRefused, "Extend with a stale lease")
	_, err = s.m.Fail(bg, first.Lease, "x", true)
	wantKind(t, err, sdk.ErrRefused, "Fail with a stale lease")
	sc.mustAck(second)
	r := sc.wantStatus(id, "completed")
	if r.Attempts != 2 || !SameJSON(r.Result, []byte(`{"ok":true}`)) {
		t.Fatalf("result %s attempts %d, want the second delivery's ack (attempts 2)", r.Result, r.Attempts)
	}
}

func (s *msuite) nack(t *testing.T) {
	sc := s.scope(t)
	id := sc.enqueue(sdk.Task{Payload: []byte(`{}`), MaxAttempts: 3}).ID
	c := sc.consumer(30*time.Second, 2)
	d := c.Next()
	start := time.Now()
	dead, err := s.m.Nack(bg, d.Lease, time.Second, "busy")
	if err != nil || dead {
		t.Fatalf("Nack: %v dead=%v", err, dead)
	}
	sc.wantStatus(id, "delayed")
	sc.wantStats(0, 0, 1, 0)
	d2 := c.Next()
	wantDelivery(t, d2, id, 2)
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Fatalf("Nack with delay 1s redelivered after %s", el)
	}
	wantKind(t, sc.ack(d.Lease, "{}"), sdk.ErrRefused, "Ack with the nacked lease")
	sc.mustAck(d2)
}

func (s *msuite) retryThenDead(t *testing.T) {
	sc := s.scope(t)
	id := sc.enqueue(sdk.Task{Payload: []byte(`{}`), MaxAttempts: 2}).ID
	c := sc.consumer(30*time.Second, 3)
	d := c.Next()
	wantDelivery(t, d, id, 1)
	if sc.fail(d, true) {
		t.Fatalf("retryable Fail on attempt 1 of 2 dead-lettered the task")
	}
	if st := sc.result(id).Status; st != "delayed" && st != "pending" && st != "in_progress" {
		t.Fatalf("after a retryable Fail the task is %q, want delayed/pending", st)
	}
	d = c.Next()
	wantDelivery(t, d, id, 2)
	if !sc.fail(d, true) {
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
	id := sc.enqueue(sdk.Task{Payload: []byte(`{}`), MaxAttempts: 5}).ID
	c := sc.consumer(30*time.Second, 2)
	d := c.Next()
	if sc.fail(d, false) {
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
	dead := sc.enqueue(sdk.Task{Payload: []byte(`{}`), MaxAttempts: 1, Priority: 9}).ID
	c := sc.consumer(30*time.Second, 1)
	d := c.Next()
	wantDelivery(t, d, dead, 1)
	if !sc.fail(d, true) {
		t.Fatalf("retryable Fail at max_attempts 1 did not dead-letter")
	}
	busy := sc.enqueue(sdk.Task{Payload: []byte(`{}`), Priority: 9}).ID
	c.Credit(1)
	wantDelivery(t, c.Next(), busy, 1)
	sc.enqueue(sdk.Task{Payload: []byte(`{}`)})
	sc.enqueue(sdk.Task{Payload: []byte(`{}`)})
	sc.enqueue(sdk.Task{Payload: []byte(`{}`), Delay: time.Minute})
	sc.wantStats(2, 1, 1, 1)
}

func (s *msuite) tenants(t *testing.T) {
	a, b := s.scope(t), s.scope(t)
	b.cmd = a.cmd
	id := a.enqueue(sdk.Task{Payload: []byte(`{}`), IdempotencyKey: "shared"}).ID
	if r := b.enqueue(sdk.Task{Payload: []byte(`{}`), IdempotencyKey: "shared"}); r.Duplicate || r.ID == id {
		t.Fatalf("an idempotency key of tenant A deduplicated tenant B's task: %+v", r)
	}
	_, err := s.m.Result(bg, b.tenant, id)
	wantKind(t, err, sdk.ErrNotFound, "Result of tenant A's task as tenant B")
	if s.o.SharedTenantQueues {
		ca := a.consumer(30*time.Second, 1)
		d := ca.Next()
		wantDelivery(t, d, id, 1)
		wantKind(t, b.ack(sdk.Lease{TaskID: id, ID: d.Lease.ID}, "{}"),
			sdk.ErrNotFound, "Ack of tenant A's task as tenant B")
		t.Log("SharedTenantQueues: tenant-filtered consumers and per-tenant Stats not checked")
		return
	}
	cb := b.consumer(30*time.Second, 5)
	db := cb.Next()
	if db.Task.Tenant != b.tenant {
		t.Fatalf("tenant B's consumer got a task of tenant %q", db.Task.Tenant)
	}
	cb.None(300*time.Millisecond, "tenant B's consumer got tenant A's task")
	wantKind(t, b.ack(sdk.Lease{TaskID: id, ID: db.Lease.ID}, "{}"),
		sdk.ErrNotFound, "Ack of tenant A's task as tenant B")
	a.wantStats(1, 0, 0, 0)
	b.wantStats(0, 1, 0, 0)
	ca := a.consumer(30*time.Second, 1)
	wantDelivery(t, ca.Next(), id, 1)
}

func (s *msuite) badInput(t *testing.T) {
	sc := s.scope(t)
	_, err := s.m.Enqueue(bg, sdk.Task{Tenant: sc.tenant, Payload: []byte(`{}`)})
	wantKind(t, err, sdk.ErrInvalid, "Enqueue without a command")
	_, err = s.m.Enqueue(bg, sdk.Task{Command: sc.cmd, Payload: []byte(`{}`)})
	wantKind(t, err, sdk.ErrInvalid, "Enqueue without a tenant")
	ctx, cancel := context.WithTimeout(bg, s.o.Wait)
	defer cancel()
	c, err := s.m.Consume(ctx, sdk.Subscription{Tenant: sc.tenant, Lease: 30 * time.Second})
	if err == nil { // the refusal may come with the stream's first answer
		_, err = c.Next(ctx, 1)
		_ = c.Close()
	}
	wantKind(t, err, sdk.ErrInvalid, "Subscribe without commands")
}
