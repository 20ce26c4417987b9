package driver_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	basepb "github.com/sous-run/sous/sdk/proto/base"
	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

func TestEnqueueConsumeAckResult(t *testing.T) {
	c := launch(t, embedded(freeAddrs(t), nil))
	if h, err := c.Base.Health(ctxT(t), &basepb.HealthRequest{}); err != nil || !h.Healthy {
		t.Fatalf("health: %v %v", h, err)
	}
	id := enqueue(t, c, &messagingpb.Task{Tenant: "tenant-b", Payload: []byte(`{"x":1}`)}).Id
	if r := resultAs(t, c, "tenant-b", id); r.Status != "pending" {
		t.Fatalf("status %q, want pending", r.Status)
	}
	if s := statsOf(t, c); s.Pending != 1 {
		t.Fatalf("stats %v", s)
	}
	k := consume(t, c, 30)
	k.Credit(1)
	d := k.Next()
	if d.Task.Id != id || d.Task.Attempt != 1 || d.Task.Tenant != "tenant-b" || string(d.Task.Payload) != `{"x":1}` || d.LeaseId == "" || d.LeaseExpiresMs <= time.Now().UnixMilli() {
		t.Fatalf("delivery %v", d)
	}
	if r := resultAs(t, c, "tenant-b", id); r.Status != "in_progress" || r.Attempts != 1 {
		t.Fatalf("result while leased: %v", r)
	}
	if _, err := c.Messaging.GetResult(ctxT(t), &messagingpb.GetResultRequest{Tenant: "acme", Id: id}); status.Code(err) != codes.NotFound {
		t.Fatalf("another tenant reads the task: %v, want NotFound", err)
	}
	if _, err := c.Messaging.Ack(ctxT(t), &messagingpb.AckRequest{Tenant: "acme", Id: id, LeaseId: d.LeaseId, ResultJson: []byte(`{}`)}); status.Code(err) != codes.NotFound {
		t.Fatalf("another tenant acks the task it holds: %v, want NotFound", err)
	}
	pending := enqueue(t, c, &messagingpb.Task{Tenant: "tenant-b", Payload: []byte(`{}`)}).Id
	if _, err := c.Messaging.Fail(ctxT(t), &messagingpb.FailRequest{Tenant: "acme", Id: pending, LeaseId: "1", Error: "x"}); status.Code(err) != codes.NotFound {
		t.Fatalf("another tenant fails a pending task: %v, want NotFound", err)
	}
	if _, err := c.Messaging.Ack(ctxT(t), &messagingpb.AckRequest{Tenant: "tenant-b", Id: id, LeaseId: d.LeaseId, ResultJson: []byte(`[1]`)}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("ack with a non-object: %v, want InvalidArgument", err)
	}
	if _, err := c.Messaging.Ack(ctxT(t), &messagingpb.AckRequest{Tenant: "tenant-b", Id: id, LeaseId: d.LeaseId, ResultJson: []byte(`{"ok":true}`)}); err != nil {
		t.Fatal(err)
	}
	r, err := c.Messaging.GetResult(ctxT(t), &messagingpb.GetResultRequest{Tenant: "tenant-b", Id: id})
	if err != nil || r.Status != "completed" || string(r.ResultJson) != `{"ok":true}` || r.CompletedAtMs == 0 {
		t.Fatalf("result %v %v", r, err)
	}
	if s := statsOf(t, c); s.Pending != 1 || s.InProgress+s.Delayed+s.Dead != 0 { // the other task stays pending
		t.Fatalf("stats after ack %v", s)
	}
	if _, err := c.Messaging.GetResult(ctxT(t), &messagingpb.GetResultRequest{Tenant: "acme", Id: "no-such-task"}); status.Code(err) != codes.NotFound {
		t.Fatalf("unknown task: %v, want NotFound", err)
	}
}

func TestIdempotentEnqueue(t *testing.T) {
	c := launch(t, embedded(freeAddrs(t), nil))
	a := enqueue(t, c, &messagingpb.Task{IdempotencyKey: "inv-1"})
	b := enqueue(t, c, &messagingpb.Task{IdempotencyKey: "inv-1"})
	if a.Duplicate || !b.Duplicate || a.Id != b.Id {
		t.Fatalf("first %v, second %v", a, b)
	}
	// codeQ takes no client-chosen id: the caller's id is the idempotency key, and
	// GetResult finds the task by it in the process that enqueued.
	own := enqueue(t, c, &messagingpb.Task{Id: "chosen-id"})
	again := enqueue(t, c, &messagingpb.Task{Id: "chosen-id"})
	if own.Duplicate || !again.Duplicate || again.Id != own.Id {
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
		enqueue(t, c, &messagingpb.Task{})
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
	id := enqueue(t, c, &messagingpb.Task{}).Id
	if d := k.Next(); d.Task.Id != id {
		t.Fatalf("got %v", d)
	}
}

func TestFailRetryThenDead(t *testing.T) {
	c := launch(t, embedded(freeAddrs(t), nil))
	id := enqueue(t, c, &messagingpb.Task{MaxAttempts: 2}).Id
	k := consume(t, c, 30)
	k.Credit(2)
	d := k.Next()
	f, err := c.Messaging.Fail(ctxT(t), &messagingpb.FailRequest{Tenant: "acme", Id: id, LeaseId: d.LeaseId, Error: "flaky", Retryable: true})
	if err != nil || f.Dead {
		t.Fatalf("first retryable fail: %v %v", f, err)
	}
	d2 := k.Next()
	if d2.Task.Id != id || d2.Task.Attempt != 2 {
		t.Fatalf("retry %v, want attempt 2", d2)
	}
	f, err = c.Messaging.Fail(ctxT(t), &messagingpb.FailRequest{Tenant: "acme", Id: id, LeaseId: d2.LeaseId, Error: "flaky again", Retryable: true})
	if err != nil || !f.Dead {
		t.Fatalf("last retryable fail: %v %v, want dead", f, err)
	}
	if r := result(t, c, id); r.Status != "dead" || r.Error != "flaky again" || r.Attempts != 2 {
		t.Fatalf("result %v", r)
	}
	if s := statsOf(t, c); s.Dead != 1 {
		t.Fatalf("stats %v", s)
	}

	id2 := enqueue(t, c, &messagingpb.Task{MaxAttempts: 5}).Id
	k.Credit(1)
	d3 := k.Next()
	if _, err := c.Messaging.Fail(ctxT(t), &messagingpb.FailRequest{Tenant: "acme", Id: id2, LeaseId: d3.LeaseId, Error: "bad input"}); err != nil {
		t.Fatal(err)
	}
	if r := result(t, c, id2); r.Status != "failed" || r.Error != "bad input" {
		t.Fatalf("non-retryable fail result %v", r)
	}
}

func TestNackDelays(t *testing.T) {
	c := launch(t, embedded(freeAddrs(t), nil))
	id := enqueue(t, c, &messagingpb.Task{}).Id
	k := consume(t, c, 30)
	k.Credit(1)
	d := k.Next()
	if n, err := c.Messaging.Nack(ctxT(t), &messagingpb.NackRequest{Tenant: "acme", Id: id, LeaseId: d.LeaseId, DelaySeconds: 60}); err != nil || n.Dead {
		t.Fatalf("nack %v %v", n, err)
	}
	if r := result(t, c, id); r.Status != "delayed" {
		t.Fatalf("status %q, want delayed", r.Status)
	}
	if _, err := c.Messaging.Nack(ctxT(t), &messagingpb.NackRequest{Tenant: "acme", Id: id, LeaseId: d.LeaseId}); err == nil {
		t.Fatal("nack of a task no longer leased accepted")
	}
}

// A lease that expired and was claimed again is refused; the current one works.
func TestStaleLeaseAndExtend(t *testing.T) {
	c := launch(t, embedded(freeAddrs(t), nil))
	id := enqueue(t, c, &messagingpb.Task{}).Id
	k := consume(t, c, 2)
	k.Credit(2)
	old := k.Next()
	cur := k.Next() // redelivered after the 2 s lease ran out
	if cur.Task.Id != id || cur.Task.Attempt != 2 || cur.LeaseId == old.LeaseId {
		t.Fatalf("redelivery %v after %v", cur, old)
	}
	if _, err := c.Messaging.Ack(ctxT(t), &messagingpb.AckRequest{Tenant: "acme", Id: id, LeaseId: old.LeaseId, ResultJson: []byte(`{}`)}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("ack with a stale lease: %v, want FailedPrecondition", err)
	}
	e, err := c.Messaging.Extend(ctxT(t), &messagingpb.ExtendRequest{Tenant: "acme", Id: id, LeaseId: cur.LeaseId, Seconds: 30})
	if err != nil || e.LeaseExpiresMs < time.Now().Add(20*time.Second).UnixMilli() {
		t.Fatalf("extend %v %v", e, err)
	}
	k.Credit(1)
	k.None(2500*time.Millisecond, "delivery beyond credits") // the extended lease holds past the original 2 s
	if _, err := c.Messaging.Ack(ctxT(t), &messagingpb.AckRequest{Tenant: "acme", Id: id, LeaseId: cur.LeaseId, ResultJson: []byte(`{"v":2}`)}); err != nil {
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
	id := enqueue(t, first, &messagingpb.Task{Payload: []byte(`{"from":"first"}`)}).Id
	k := consume(t, second, 30)
	k.Credit(1)
	d := k.Next()
	if d.Task.Id != id {
		t.Fatalf("second process got %v", d)
	}
	if _, err := second.Messaging.Ack(ctxT(t), &messagingpb.AckRequest{Tenant: "acme", Id: id, LeaseId: d.LeaseId, ResultJson: []byte(`{"by":"second"}`)}); err != nil {
		t.Fatal(err)
	}
	if r := result(t, first, id); r.Status != "completed" || string(r.ResultJson) != `{"by":"second"}` {
		t.Fatalf("result seen by the first process: %v", r)
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []string{`{"embeded":true}`, `{"producer_addr":"127.0.0.1:1"}`, `{"ready_resend":"soon","jwt_key":"k"}`} {
		c := launchRaw(t)
		err := c.Configure(ctxT(t), []byte(cfg), t.TempDir())
		if status.Code(err) != codes.InvalidArgument && (err == nil || !contains(err.Error(), "InvalidArgument")) {
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
		h, err := bad.Base.Health(ctxT(t), &basepb.HealthRequest{})
		return err == nil && !h.Healthy && strings.Contains(h.Reason, "Unauthenticated")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := bad.Messaging.Enqueue(ctx, &messagingpb.EnqueueRequest{Task: &messagingpb.Task{Tenant: "acme", Command: cmd}})
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "Unauthenticated") {
		t.Fatalf("enqueue with a rejected token: %v, want Unavailable naming the rejection", err)
	}
}

// delay_ms holds a task back (status delayed); priority orders what is claimable.
func TestDelayAndPriority(t *testing.T) {
	c := launch(t, embedded(freeAddrs(t), nil))
	late := enqueue(t, c, &messagingpb.Task{DelayMs: 800}).Id
	if r := result(t, c, late); r.Status != "delayed" {
		t.Fatalf("status %q, want delayed", r.Status)
	}
	low := enqueue(t, c, &messagingpb.Task{Priority: 1}).Id
	high := enqueue(t, c, &messagingpb.Task{Priority: 9}).Id
	k := consume(t, c, 30)
	k.Credit(3)
	for i, want := range []string{high, low, late} {
		if d := k.Next(); d.Task.Id != want {
			t.Fatalf("delivery %d: %s, want %s", i, d.Task.Id, want)
		}
	}
}
