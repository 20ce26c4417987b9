package queue

import (
	"context"
	"errors"
	"testing"

	"github.com/sous-run/sous/sdk"
)

// TestAckBatchAcksEachLeaseAlone: one AckBatch completes every lease it holds, even
// after Redis lost its scripts; a stale lease fails alone and its task stays leased.
func TestAckBatchAcksEachLeaseAlone(t *testing.T) {
	ctx := context.Background()
	q := testQueue(t)
	ds := []sdk.Delivery{claimOne(t, q, "fn"), claimOne(t, q, "fn"), claimOne(t, q, "fn")}
	stale := ds[1].Lease
	stale.ID = "fn/forged.1"
	if err := q.cl.Cmd.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	errs := q.AckBatch(ctx, []sdk.AckItem{
		{Lease: ds[0].Lease, Result: []byte(`{"n":0}`)},
		{Lease: stale, Result: []byte(`{"n":1}`)},
		{Lease: ds[2].Lease, Result: []byte(`{"n":2}`)},
	})
	if len(errs) != 3 || errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], ErrStale) {
		t.Fatalf("AckBatch = %v; want the forged lease refused alone", errs)
	}
	for i, want := range []string{sdk.TaskCompleted, sdk.TaskInProgress, sdk.TaskCompleted} {
		r, err := q.Get(ctx, "acme", ds[i].Task.ID)
		if err != nil || r.Status != want {
			t.Fatalf("task %d: %v, %v; want %s", i, r.Status, err, want)
		}
	}
	if n := leasedCount(t, q, "fn"); n != 1 {
		t.Fatalf("%d leased; want the one whose ack was refused", n)
	}
}

// TestEnqueueBatchStoresEachTaskAlone: one EnqueueBatch stores every valid task in
// order (a later task with an earlier one's idempotency key is its duplicate); an
// invalid task fails alone.
func TestEnqueueBatchStoresEachTaskAlone(t *testing.T) {
	ctx := context.Background()
	q := testQueue(t)
	if err := q.cl.Cmd.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	res := q.EnqueueBatch(ctx, []sdk.Task{
		{Tenant: "acme", Command: "fn", Payload: []byte(`{}`), IdempotencyKey: "k"},
		{Tenant: "acme", Command: "fn", Payload: []byte(`{}`), Priority: MaxPriority + 1},
		{Tenant: "acme", Command: "fn", Payload: []byte(`{}`), IdempotencyKey: "k"},
		{Tenant: "acme", Command: "fn", Payload: []byte(`{}`)},
	})
	if len(res) != 4 || res[0].Err != nil || res[0].Duplicate || res[3].Err != nil || res[3].Duplicate {
		t.Fatalf("EnqueueBatch = %+v; want the first and last stored", res)
	}
	if !errors.Is(res[1].Err, ErrInvalid) {
		t.Fatalf("the out-of-range priority: %v; want ErrInvalid alone", res[1].Err)
	}
	if res[2].Err != nil || !res[2].Duplicate || res[2].ID != res[0].ID {
		t.Fatalf("the repeated key: %+v; want a duplicate of %s", res[2], res[0].ID)
	}
	cl, err := q.Claim(ctx, "acme", []string{"fn"}, 10, 60e9, "w1", false)
	if err != nil || len(cl.Tasks) != 2 || cl.Tasks[0].Task.ID != res[0].ID || cl.Tasks[1].Task.ID != res[3].ID {
		t.Fatalf("claimed %v, %v; want the two stored tasks in order", cl.Tasks, err)
	}
}
