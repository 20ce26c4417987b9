package driver_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sous-run/sous/sdk"
)

func TestEnqueueConsumeAckResult(t *testing.T) {
	c := launch(t, embedded(freeAddrs(t), nil))
	if h, err := c.Health(ctxT(t)); err != nil || !h.Healthy {
		t.Fatalf("health: %v %v", h, err)
	}
	id := enqueue(t, c, sdk.Task{Tenant: "tenant-b", Payload: []byte(`{"x":1}`)}).ID
	if r := resultAs(t, c, "tenant-b", id); r.Status != "pending" {
		t.Fatalf("status %q, want pending", r.Status)
	}
	if s := statsOf(t, c); s.Pending != 1 {
		t.Fatalf("stats %v", s)
	}
	k := consume(t, c, 30)
	k.Credit(1)
	d := k.Next()
	if d.Task.ID != id || d.Task.Attempt != 1 || d.Task.Tenant != "tenant-b" || string(d.Task.Payload) != `{"x":1}` || d.Lease.ID == "" || !d.Lease.Expires.After(time.Now()) {
		t.Fatalf("delivery %v", d)
	}
	if r := resultAs(t, c, "tenant-b", id); r.Status != "in_progress" || r.Attempts != 1 {
		t.Fatalf("result while leased: %v", r)
	}
	if _, err := c.Messaging.Result(ctxT(t), "acme", id); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("another tenant reads the task: %v, want NotFound", err)
	}
	if err := c.Messaging.Ack(ctxT(t), sdk.Lease{Tenant: "acme", TaskID: id, ID: d.Lease.ID}, []byte(`{}`)); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("another tenant acks the task it holds: %v, want NotFound", err)
	}
	pending := enqueue(t, c, sdk.Task{Tenant: "tenant-b", Payload: []byte(`{}`)}).ID
	if _, err := c.Messaging.Fail(ctxT(t), sdk.Lease{Tenant: "acme", TaskID: pending, ID: "1"}, "x", false); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("another tenant fails a pending task: %v, want NotFound", err)
	}
	if err := c.Messaging.Ack(ctxT(t), sdk.Lease{Tenant: "tenant-b", TaskID: id, ID: d.Lease.ID}, []byte(`[1]`)); !errors.Is(err, sdk.ErrInvalid) {
		t.Fatalf("ack with a non-object: %v, want InvalidArgument", err)
	}
	if err := c.Messaging.Ack(ctxT(t), sdk.Lease{Tenant: "tenant-b", TaskID: id, ID: d.Lease.ID}, []byte(`{"ok":true}`)); err != nil {
		t.Fatal(err)
	}
	r, err := c.Messaging.Result(ctxT(t), "tenant-b", id)
	if err != nil || r.Status != "completed" || string(r.Result) != `{"ok":true}` || r.CompletedAt.IsZero() {
		t.Fatalf("result %v %v", r, err)
	}
	if s := statsOf(t, c); s.Pending != 1 || s.InProgress+s.Delayed+s.Dead != 0 { // the other task stays pending
		t.Fatalf("stats after ack %v", s)
	}
	if _, err := c.Messaging.Result(ctxT(t), "acme", "no-such-task"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("unknown task: %v, want NotFound", err)
	}
}

func TestIdempotentEnqueue(t *testing.T) {
	c := launch(t, embedded(freeAddrs(t), nil))
	a := enqueue(t, c, sdk.Task{IdempotencyKey: "inv-1"})
	b := enqueue(t, c, sdk.Task{IdempotencyKey: "inv-1"})
	if a.Duplicate || !b.Duplicate || a.ID != b.ID {
		t.Fatalf("first %v, second %v", a, b)
	}
	// codeQ takes no client-chosen id: the caller's id is the idempotency key, and
	// GetResult finds the task by it in the process that enqueued.
	own := enqueue(t, c, sdk.Task{ID: "chosen-id"})
	again := enqueue(t, c, sdk.Task{ID: "chosen-id"})
	if own.Duplicate || !again.Duplicate || again.ID != own.ID {
		t.Fatalf("caller's id: first %v, second %v; want one task", own, again)
	}
	if r := result(t, c, "chosen-id"); r.Status != "pending" {
		t.Fatalf("GetResult by the caller's id: %v", r)
	}
	if s := statsOf(t, c); s.Pending != 2 {
		t.Fatalf("stats %v, want 2 tasks", s)
	}
}

// Deliveries never exceed the credits granted.
func TestCredits(t *testing.T) {
	c := launch(t, embedded(freeAddrs(t), nil))
	for range 5 {
		enqueue(t, c, sdk.Task{})
	}
	k := consume(t, c, 30)
	k.Credit(2)
	k.Next()
	k.Next()
	k.None(500*time.Millisecond, "delivery beyond credits")
	k.Credit(1)
	k.Next()
	k.None(300*time.Millisecond, "delivery beyond credits")
	if s := statsOf(t, c); s.Pending != 2 || s.InProgress != 3 {
		t.Fatalf("stats %v, want 2 pending 3 in progress", s)
	}
}

// The embedded broker drops an unanswered Ready after ready_hold like codeQ; the driver
// re-sends it (ready_resend) so the slot is not lost.
func TestReadyResentAfterServerDrop(t *testing.T) {
	c := launch(t, embedded(freeAddrs(t), map[string]any{"ready_hold": "200ms", "ready_resend": "300ms"}))
	k := consume(t, c, 30)
	k.Credit(1)
	k.None(1200*time.Millisecond, "delivery beyond credits") // several holds dropped meanwhile
	id := enqueue(t, c, sdk.Task{}).ID
	if d := k.Next(); d.Task.ID != id {
		t.Fatalf("got %v", d)
	}
}

func TestFailRetryThenDead(t *testing.T) {
	c := launch(t, embedded(freeAddrs(t), nil))
	id := enqueue(t, c, sdk.Task{MaxAttempts: 2}).ID
	k := consume(t, c, 30)
	k.Credit(2)
	d := k.Next()
	dead, err := c.Messaging.Fail(ctxT(t), sdk.Lease{Tenant: "acme", TaskID: id, ID: d.Lease.ID}, "flaky", true)
	if err != nil || dead {
		t.Fatalf("first retryable fail: dead=%v %v", dead, err)
	}
	d2 := k.Next()
	if d2.Task.ID != id || d2.Task.Attempt != 2 {
		t.Fatalf("retry %v, want attempt 2", d2)
	}
	dead, err = c.Messaging.Fail(ctxT(t), sdk.Lease{Tenant: "acme", TaskID: id, ID: d2.Lease.ID}, "flaky again", true)
	if err != nil || !dead {
		t.Fatalf("last retryable fail: dead=%v %v, want dead", dead, err)
	}
	if r := result(t, c, id); r.Status != "dead" || r.Error != "flaky again" || r.Attempts != 2 {
		t.Fatalf("result %v", r)
	}
	if s := statsOf(t, c); s.Dead != 1 {
		t.Fatalf("stats %v", s)
	}

	id2 := enqueue(t, c, sdk.Task{MaxAttempts: 5}).ID
	k.Credit(1)
	d3 := k.Next()
	if _, err := c.Messaging.Fail(ctxT(t), sdk.Lease{Tenant: "acme", TaskID: id2, ID: d3.Lease.ID}, "bad input", false); err != nil {
		t.Fatal(err)
	}
	if r := result(t, c, id2); r.Status != "failed" || r.Error != "bad input" {
		t.Fatalf("non-retryable fail result %v", r)
	}
}

func TestNackDelays(t *testing.T) {
	c := launch(t, embedded(freeAddrs(t), nil))
	id := enqueue(t, c, sdk.Task{}).ID
	k := consume(t, c, 30)
	k.Credit(1)
	d := k.Next()
	if dead, err := c.Messaging.Nack(ctxT(t), sdk.Lease{Tenant: "acme", TaskID: id, ID: d.Lease.ID}, time.Minute, ""); err != nil || dead {
		t.Fatalf("nack dead=%v %v", dead, err)
	}
	if r := result(t, c, id); r.Status != "delayed" {
		t.Fatalf("status %q, want delayed", r.Status)
	}
	if _, err := c.Messaging.Nack(ctxT(t), sdk.Lease{Tenant: "acme", TaskID: id, ID: d.Lease.ID}, 0, ""); err == nil {
		t.Fatal("nack of a task no longer leased accepted")
	}
}

// A lease that expired and was claimed again is refused; the current one works.
func TestStaleLeaseAndExtend(t *testing.T) {
	c := launch(t, embedded(freeAddrs(t), nil))
	id := enqueue(t, c, sdk.Task{}).ID
	k := consume(t, c, 2)
	k.Credit(2)
	old := k.Next()
	cur := k.Next() // redelivered after the 2 s lease ran out
	if cur.Task.ID != id || cur.Task.Attempt != 2 || cur.Lease.ID == old.Lease.ID {
		t.Fatalf("redelivery %v after %v", cur, old)
	}
	if err := c.Messaging.Ack(ctxT(t), sdk.Lease{Tenant: "acme", TaskID: id, ID: old.Lease.ID}, []byte(`{}`)); !errors.Is(err, sdk.ErrRefused) {
		t.Fatalf("ack with a stale lease: %v, want FailedPrecondition", err)
	}
	e, err := c.Messaging.Extend(ctxT(t), sdk.Lease{Tenant: "acme", TaskID: id, ID: cur.Lease.ID}, 30*time.Second)
	if err != nil || e.Before(time.Now().Add(20*time.Second)) {
		t.Fatalf("extend %v %v", e, err)
	}
	k.Credit(1)
	k.None(2500*time.Millisecond, "delivery beyond credits") // the extended lease holds past the original 2 s
	if err := c.Messaging.Ack(ctxT(t), sdk.Lease{Tenant: "acme", TaskID: id, ID: cur.Lease.ID}, []byte(`{"v":2}`)); err != nil {
		t.Fatal(err)
	}
	if r := result(t, c, id); r.Status != "completed" || r.Attempts != 2 {
		t.Fatalf("result %v", r)
	}
}

// A second host process joins the embedded broker of the first as a worker.
func TestSecondProcessJoins(t *testing.T) {
	a := freeAddrs(t)
	first := launch(t, embedded(a, nil))
	second := launch(t, joining(a))
	id := enqueue(t, first, sdk.Task{Payload: []byte(`{"from":"first"}`)}).ID
	k := consume(t, second, 30)
	k.Credit(1)
	d := k.Next()
	if d.Task.ID != id {
		t.Fatalf("second process got %v", d)
	}
	if err := second.Messaging.Ack(ctxT(t), sdk.Lease{Tenant: "acme", TaskID: id, ID: d.Lease.ID}, []byte(`{"by":"second"}`)); err != nil {
		t.Fatal(err)
	}
	if r := result(t, first, id); r.Status != "completed" || string(r.Result) != `{"by":"second"}` {
		t.Fatalf("result seen by the first process: %v", r)
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []string{`{"embeded":true}`, `{"producer_addr":"127.0.0.1:1"}`, `{"ready_resend":"soon","jwt_key":"k"}`} {
		c := launchRaw(t)
		err := c.Base.Configure(ctxT(t), sdk.Config{JSON: []byte(cfg), APIVersion: sdk.APIVersion, HostDataDir: t.TempDir()})
		if !errors.Is(err, sdk.ErrInvalid) && (err == nil || !contains(err.Error(), "InvalidArgument")) {
			t.Fatalf("config %s: %v, want InvalidArgument", cfg, err)
		}
	}
}

// A rejected token leaves the driver unhealthy with codeQ's reason, and calls fail with
// Unavailable instead of hanging.
func TestRejectedTokenIsReported(t *testing.T) {
	a := freeAddrs(t)
	launch(t, embedded(a, nil))
	bad := launch(t, fmt.Sprintf(`{"producer_addr":%q,"worker_addr":%q,"http_addr":%q,"producer_token":"not-a-jwt","worker_token":"not-a-jwt"}`, a.producer, a.worker, a.http))
	eventually(t, "health to report the rejected token", func() bool {
		h, err := bad.Health(ctxT(t))
		return err == nil && !h.Healthy && strings.Contains(h.Reason, "Unauthenticated")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := bad.Messaging.Enqueue(ctx, sdk.Task{Tenant: "acme", Command: cmd})
	if !errors.Is(err, sdk.ErrUnavailable) || !strings.Contains(err.Error(), "Unauthenticated") {
		t.Fatalf("enqueue with a rejected token: %v, want Unavailable naming the rejection", err)
	}
}

// delay_ms holds a task back (status delayed); priority orders what is claimable.
func TestDelayAndPriority(t *testing.T) {
	c := launch(t, embedded(freeAddrs(t), nil))
	late := enqueue(t, c, sdk.Task{Delay: 800 * time.Millisecond}).ID
	if r := result(t, c, late); r.Status != "delayed" {
		t.Fatalf("status %q, want delayed", r.Status)
	}
	low := enqueue(t, c, sdk.Task{Priority: 1}).ID
	high := enqueue(t, c, sdk.Task{Priority: 9}).ID
	k := consume(t, c, 30)
	k.Credit(3)
	for i, want := range []string{high, low, late} {
		if d := k.Next(); d.Task.ID != want {
			t.Fatalf("delivery %d: %s, want %s", i, d.Task.ID, want)
		}
	}
}
