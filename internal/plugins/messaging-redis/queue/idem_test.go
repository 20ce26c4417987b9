package queue

import (
	"context"
	"encoding/hex"
	"testing"

	"github.com/sous-run/sous/sdk"
)

// TestIdempotencyKeyThatIsTheIDStoresNoMapping: the host keys every enqueue by the
// task's own id. The task hash stands for that key (no idem key is kept for it, one
// less key per invocation for idempotency_ttl), a repeat is still its duplicate, and a
// task whose id is another task's idempotency key is still that task's duplicate.
func TestIdempotencyKeyThatIsTheIDStoresNoMapping(t *testing.T) {
	ctx := context.Background()
	q := testQueue(t)
	k := q.keys("acme")
	task := sdk.Task{ID: "t1", Tenant: "acme", Command: "fn", Payload: []byte(`{}`), IdempotencyKey: "t1"}
	first, err := enqueue(ctx, q, task)
	if err != nil || first.Duplicate {
		t.Fatalf("first enqueue: %+v, %v", first, err)
	}
	if n := q.cl.Cmd.Exists(ctx, k.idem(hex.EncodeToString([]byte("t1")))).Val(); n != 0 {
		t.Fatalf("an idempotency key equal to the task id was stored apart (%d key)", n)
	}
	task.Payload = []byte(`{"other":1}`)
	again, err := enqueue(ctx, q, task)
	if err != nil || !again.Duplicate || again.ID != "t1" {
		t.Fatalf("repeat: %+v, %v; want a duplicate of t1", again, err)
	}

	byKey, err := enqueue(ctx, q, sdk.Task{Tenant: "acme", Command: "fn", Payload: []byte(`{}`), IdempotencyKey: "t2"})
	if err != nil || byKey.Duplicate {
		t.Fatalf("enqueue with key t2: %+v, %v", byKey, err)
	}
	if n := q.cl.Cmd.Exists(ctx, k.idem(hex.EncodeToString([]byte("t2")))).Val(); n != 1 {
		t.Fatalf("a key that is not the task id was not stored (%d keys)", n)
	}
	clash, err := enqueue(ctx, q, sdk.Task{ID: "t2", Tenant: "acme", Command: "fn", Payload: []byte(`{}`), IdempotencyKey: "t2"})
	if err != nil || !clash.Duplicate || clash.ID != byKey.ID {
		t.Fatalf("id t2 with key t2: %+v, %v; want a duplicate of %s (key t2 is taken)", clash, err, byKey.ID)
	}
	cl, err := q.Claim(ctx, "acme", []string{"fn"}, 10, 60e9, "w1", false)
	if err != nil || len(cl.Tasks) != 2 || cl.Tasks[0].Task.ID != "t1" || cl.Tasks[0].Task.Attempt != 1 {
		t.Fatalf("claimed %+v, %v; want t1 (attempt 1) and %s", cl.Tasks, err, byKey.ID)
	}
}

func enqueue(ctx context.Context, q *Queue, t sdk.Task) (sdk.EnqueueResult, error) {
	r := q.EnqueueBatch(ctx, []sdk.Task{t})[0]
	return r, r.Err
}
