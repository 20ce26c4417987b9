package server

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/sdk"
)

// server is a configured Server on the rig's Redis.
func (r *rig) server(t *testing.T) *Server {
	t.Helper()
	s := New(hclog.NewNullLogger())
	raw := fmt.Appendf(nil, `{"url":%q}`, "redis://"+r.raw.Options().Addr)
	if err := s.Configure(context.Background(), sdk.Config{JSON: raw}); err != nil {
		t.Fatal(err)
	}
	return s
}

// A task enqueued through the plugin while one of its consumers waits goes to that
// consumer, leased in the enqueue's own script: no claim and no wake-up token, and the
// lease is the task's (it acks).
func TestEnqueueHandsTheTaskToAWaitingConsumer(t *testing.T) {
	r := newRig(t)
	s := r.server(t)
	ctx := context.Background()
	sc, err := s.Consume(ctx, sdk.Subscription{Commands: []string{cmd}, WorkerID: "w1"})
	if err != nil {
		t.Fatal(err)
	}
	c := sc.(*consumer)
	t.Cleanup(func() { _ = c.Close() })
	r.enqueue(t, "acme") // the tenant is known: no new-tenant token below
	next(t, c, 8)
	got := make(chan []sdk.Delivery, 1)
	go func() { ds, _ := c.Next(context.Background(), 8); got <- ds }()
	r.parked(t)
	before := r.calls(t)
	q, err := s.Enqueue(ctx, sdk.Task{Tenant: "acme", Command: cmd, Payload: []byte(`{"n":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	var ds []sdk.Delivery
	select {
	case ds = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting consumer got nothing")
	}
	if len(ds) != 1 || ds[0].Task.ID != q.ID || ds[0].Task.Attempt != 1 || string(ds[0].Task.Payload) != `{"n":1}` {
		t.Fatalf("deliveries %+v; want task %s, attempt 1", ds, q.ID)
	}
	after := r.calls(t)
	for name, want := range map[string]int{"evalsha": 1, "rpush": 0} { // the enqueue alone
		if n := after[name] - before[name]; n != want {
			t.Errorf("%s ran %d times for a handed-over task; want %d", name, n, want)
		}
	}
	task := "sous:acme:task:" + q.ID
	if st, lease := r.raw.HGet(ctx, task, "state").Val(), r.raw.HGet(ctx, task, "lease").Val(); st != "in_progress" || lease != ds[0].Lease.ID {
		t.Fatalf("task state %q lease %q; want in_progress under %s", st, lease, ds[0].Lease.ID)
	}
	if err := s.Ack(ctx, ds[0].Lease, []byte(`{}`)); err != nil {
		t.Fatalf("ack of the handed-over lease: %v", err)
	}
}

// A task handed over after its consumer's Next gave up comes back from that Next with
// the error, so the SDK gives it back instead of losing it.
func TestAHandOverAfterTheWaiterLeftIsReturned(t *testing.T) {
	r := newRig(t)
	c := r.consumer(t, "acme")
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		ds  []sdk.Delivery
		err error
	}
	res := make(chan result, 1)
	go func() { ds, err := c.Next(ctx, 8); res <- result{ds, err} }()
	var tk *taker
	for end := time.Now().Add(5 * time.Second); tk == nil && time.Now().Before(end); time.Sleep(time.Millisecond) {
		tk = c.s.takers.take("acme", cmd)
	}
	if tk == nil {
		t.Fatal("the consumer never waited for a hand-over")
	}
	cancel()
	d := &sdk.Delivery{Task: sdk.Task{ID: "t1", Tenant: "acme", Command: cmd}}
	tk.got <- d
	select {
	case r := <-res:
		if !errors.Is(r.err, context.Canceled) || len(r.ds) != 1 || r.ds[0].Task.ID != "t1" {
			t.Fatalf("Next gave %+v, %v; want the handed-over task with the cancellation", r.ds, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not return")
	}
}
