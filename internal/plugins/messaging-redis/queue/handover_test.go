package queue

import (
	"context"
	"testing"
	"time"

	"github.com/sous-run/sous/sdk"
)

// A consumer replaced while it waits (its stream ended: the worker subscribed again)
// must not keep the wake-up token of the next enqueue from the consumer that replaced
// it: that one would sleep to the end of its wait with a task pending.
func TestWaitOfALeftConsumerGivesItsTokenBack(t *testing.T) {
	q := testQueue(t)
	old, leave := context.WithCancel(context.Background())
	oldDone := make(chan error, 1)
	go func() { oldDone <- wait(q, old) }()
	time.Sleep(50 * time.Millisecond) // the old consumer's pop is blocked first
	leave()
	newDone := make(chan error, 1)
	go func() { newDone <- wait(q, context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if _, _, err := q.Enqueue(context.Background(), sdk.Task{Tenant: "acme", Command: "c", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := <-newDone; err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Fatalf("the new consumer woke %s after the enqueue (its wait's end): the left consumer kept the token", waited)
	}
	<-oldDone
}

// A delivery claimed for a stream that ended before it was sent goes back at once,
// its attempt not counted, and wakes a parked consumer.
func TestUnleasePutsAnUnsentDeliveryBack(t *testing.T) {
	ctx := context.Background()
	q := testQueue(t)
	d := claimOne(t, q, "c")
	if err := q.cl.Cmd.Del(ctx, q.keys("acme").ready("c")).Err(); err != nil { // the enqueue's token
		t.Fatal(err)
	}
	woke := make(chan error, 1)
	go func() { woke <- wait(q, ctx) }()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if err := q.Unlease(ctx, d.Lease.Tenant, d.Lease.TaskID, d.Lease.ID); err != nil {
		t.Fatal(err)
	}
	if err := <-woke; err != nil || time.Since(start) > 2*time.Second {
		t.Fatalf("a parked consumer woke %s after the put-back (%v); want at once", time.Since(start), err)
	}
	cl, err := q.Claim(ctx, "acme", []string{"c"}, 8, time.Minute, "w2", false)
	if err != nil || len(cl.Tasks) != 1 || cl.Tasks[0].Task.ID != d.Task.ID {
		t.Fatalf("claim after the put-back = %+v, %v; want the same task", cl.Tasks, err)
	}
	if cl.Tasks[0].Task.Attempt != d.Task.Attempt {
		t.Fatalf("attempt %d after the put-back, want %d (an unsent delivery is not an attempt)", cl.Tasks[0].Task.Attempt, d.Task.Attempt)
	}
	// The old lease is dead: putting it back again changes nothing.
	if err := q.Unlease(ctx, d.Lease.Tenant, d.Lease.TaskID, d.Lease.ID); err != nil {
		t.Fatal(err)
	}
	if cl, _ := q.Claim(ctx, "acme", []string{"c"}, 8, time.Minute, "w3", false); len(cl.Tasks) != 0 {
		t.Fatalf("a stale put-back released the current lease: %+v", cl.Tasks)
	}
}

// wait is a consumer of tenant acme's command c waiting up to 5 s.
func wait(q *Queue, ctx context.Context) error {
	_, err := q.Wait(ctx, []string{"acme"}, []string{"c"}, false, 5*time.Second)
	return err
}

// A consumer of every tenant that knows none yet wakes at the first enqueue of a new
// tenant (and is told to list them again), instead of sleeping to its next upkeep.
func TestWaitOfEveryTenantWakesOnANewTenant(t *testing.T) {
	q := testQueue(t)
	type woke struct {
		newTenant bool
		err       error
	}
	done := make(chan woke, 1)
	go func() {
		nt, err := q.Wait(context.Background(), nil, []string{"c"}, true, 5*time.Second)
		done <- woke{nt, err}
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if _, _, err := q.Enqueue(context.Background(), sdk.Task{Tenant: "fresh", Command: "c", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	w := <-done
	if w.err != nil || !w.newTenant || time.Since(start) > 2*time.Second {
		t.Fatalf("woke after %s, new tenant %v, %v; want at once, told of the new tenant", time.Since(start), w.newTenant, w.err)
	}
}
