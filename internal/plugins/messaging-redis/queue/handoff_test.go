package queue

import (
	"context"
	"testing"
	"time"

	"github.com/sous-run/sous/sdk"
)

// EnqueueTo leases a task due now to the taker, as a claim would: in progress under the
// returned lease, in the leased set, nothing pending and no wake-up token. A delayed
// task and a duplicate are not leased: the first is scheduled, the second left alone.
func TestEnqueueToLeasesOnlyATaskDueNow(t *testing.T) {
	ctx := context.Background()
	q := testQueue(t)
	k := q.keys("acme")
	to := Taker{Worker: "w1", Lease: time.Minute}
	res, d := q.EnqueueTo(ctx, sdk.Task{ID: "t1", Tenant: "acme", Command: "fn", Payload: []byte(`{"a":1}`), IdempotencyKey: "t1"}, to)
	if res.Err != nil || d == nil {
		t.Fatalf("enqueue to a taker: %+v, delivery %v", res, d)
	}
	if d.Task.ID != "t1" || d.Task.Attempt != 1 || d.Lease.TaskID != "t1" || time.Until(d.Lease.Expires) < 50*time.Second {
		t.Fatalf("delivery %+v", d)
	}
	f := q.cl.Cmd.HMGet(ctx, k.task("t1"), "state", "lease", "worker", "att").Val()
	if f[0] != "in_progress" || f[1] != d.Lease.ID || f[2] != "w1" || f[3] != "1" {
		t.Fatalf("task fields %v; want in_progress under %s for w1, attempt 1", f, d.Lease.ID)
	}
	if q.cl.Cmd.ZScore(ctx, k.leased("fn"), "t1").Err() != nil || q.cl.Cmd.ZCard(ctx, k.pending("fn")).Val() != 0 || q.cl.Cmd.LLen(ctx, k.ready("fn")).Val() != 0 {
		t.Fatal("a handed-over task must be leased only: not pending, no wake-up token")
	}
	if err := q.Ack(ctx, "acme", "t1", d.Lease.ID, []byte(`{}`)); err != nil {
		t.Fatalf("ack under the handed-over lease: %v", err)
	}

	if res, d := q.EnqueueTo(ctx, sdk.Task{ID: "t1", Tenant: "acme", Command: "fn", Payload: []byte(`{}`), IdempotencyKey: "t1"}, to); d != nil || !res.Duplicate {
		t.Fatalf("a duplicate: %+v, delivery %v; want a duplicate, not leased", res, d)
	}
	res, d = q.EnqueueTo(ctx, sdk.Task{ID: "t2", Tenant: "acme", Command: "fn", Payload: []byte(`{}`), Delay: time.Hour}, to)
	if res.Err != nil || d != nil || q.cl.Cmd.ZScore(ctx, k.scheduled("fn"), "t2").Err() != nil {
		t.Fatalf("a delayed task: %+v, delivery %v; want it scheduled, not leased", res, d)
	}
}

// A retried run of the same enqueue call (a lost reply) gets the lease the first run
// made, so its consumer is not left waiting for the lease to expire.
func TestARetriedEnqueueToGetsItsLease(t *testing.T) {
	ctx := context.Background()
	q := testQueue(t)
	c, err := q.enqueueCall(sdk.Task{ID: "t1", Tenant: "acme", Command: "fn", Payload: []byte(`{}`)}, &Taker{Worker: "w1", Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := q.evalAll(ctx, enqueueScript, []scriptCall{c, c})
	if err != nil {
		t.Fatal(err)
	}
	first, _ := cmds[0].Slice()
	again, _ := cmds[1].Slice()
	if len(first) != 4 || len(again) != 4 || again[2] != first[2] || again[1] != int64(0) {
		t.Fatalf("first run %v, retry %v; want the same lease, not a duplicate", first, again)
	}
}
