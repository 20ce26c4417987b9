package control

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// Submit records the invocation and queues one task for it, keyed by its id.
func TestSubmitQueuesTheTask(t *testing.T) {
	r := newRig(t, Options{MaxAttempts: 4})
	rec := r.submit(t)
	res, err := r.msg.Result(context.Background(), "t", rec.ID)
	if err != nil || res.Status != sdk.TaskPending {
		t.Fatalf("queued task: %+v, %v", res, err)
	}
	if got := r.record(t, rec.ID); got.Status != invocation.StatusPending {
		t.Fatalf("record status %s, want pending", got.Status)
	}
}

// Follow relays status, result and done, and makes the record final from the terminal
// event seen before done (once: OnFinal fires once).
func TestFollowFinalizesFromTerminalThenDone(t *testing.T) {
	r := newRig(t, Options{})
	rec := r.submit(t)
	r.publish(t, rec.ID, status(envelope.TypeStatus, 1), &envelope.Envelope{Type: envelope.TypeResult, Output: []byte(`{"ok":true}`)}, envelope.Done())
	var c collect
	if err := r.s.Follow(context.Background(), rec, "", c.handle); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.types, ","); got != "status,result,done" {
		t.Fatalf("relayed %s", got)
	}
	got := r.record(t, rec.ID)
	if got.Status != invocation.StatusSucceeded || string(got.Output) != `{"ok":true}` || got.Attempts != 1 {
		t.Fatalf("record %+v", got)
	}
	if f := r.finals(); len(f) != 1 || f[0] != rec.ID {
		t.Fatalf("OnFinal calls %v", f)
	}
}

// An idle follow ends with a timeout for the caller, but when messaging already has
// the run's result, the result wins and the record says so.
func TestIdleTimeoutPrefersTheResult(t *testing.T) {
	r := newRig(t, Options{IdleTimeout: 50 * time.Millisecond})
	rec := r.submit(t)
	r.completed(t, rec.ID, invocation.Outcome{InvocationID: rec.ID, Status: invocation.StatusSucceeded, Output: []byte(`7`), Attempt: 1})
	var c collect
	if err := r.s.Follow(context.Background(), rec, "", c.handle); err != nil {
		t.Fatal(err)
	}
	if c.last == nil || c.last.Type != envelope.TypeResult {
		t.Fatalf("caller got %v, want the result", c.types)
	}
	if got := r.record(t, rec.ID); got.Status != invocation.StatusSucceeded || string(got.Output) != "7" {
		t.Fatalf("record %+v", got)
	}
}

// Without a result, the idle timeout answers the caller with a timeout error but
// leaves the record open (the run may still finish); the total timeout makes it final.
func TestIdleThenTotalTimeout(t *testing.T) {
	r := newRig(t, Options{IdleTimeout: 50 * time.Millisecond, TotalTimeout: 300 * time.Millisecond})
	rec := r.submit(t)
	var c collect
	if err := r.s.Follow(context.Background(), rec, "", c.handle); err != nil {
		t.Fatal(err)
	}
	if c.last == nil || c.last.Kind != envelope.KindTimeout || c.types[len(c.types)-1] != envelope.TypeDone {
		t.Fatalf("caller got %v (%+v), want a timeout error then done", c.types, c.last)
	}
	if got := r.record(t, rec.ID); got.Status.Final() {
		t.Fatalf("idle timeout made the record final: %s", got.Status)
	}
	// The caller left; the background tracker ends it at the total timeout.
	eventually(t, "the total timeout", func() bool { return r.record(t, rec.ID).Status == invocation.StatusTimeout })
}

// The first final outcome wins: a timeout after the result changes nothing, and OnFinal
// fires once.
func TestFirstFinalOutcomeWins(t *testing.T) {
	r := newRig(t, Options{})
	rec := r.submit(t)
	ok := &invocation.Outcome{InvocationID: rec.ID, Status: invocation.StatusSucceeded, Output: []byte(`1`)}
	late := &invocation.Outcome{InvocationID: rec.ID, Status: invocation.StatusTimeout,
		Error: &invocation.ErrorInfo{Kind: envelope.KindTimeout, Message: "late"}}
	if _, err := r.s.finalize(context.Background(), rec, ok); err != nil {
		t.Fatal(err)
	}
	got, err := r.s.finalize(context.Background(), rec, late)
	if err != nil || got.Status != invocation.StatusSucceeded {
		t.Fatalf("second finalize: %+v, %v", got, err)
	}
	if f := r.finals(); len(f) != 1 {
		t.Fatalf("OnFinal calls %v", f)
	}
}

// A read that breaks because the events plugin is unavailable is opened again after
// the last event seen; the caller sees each event once.
func TestFollowReadsAgainAfterUnavailable(t *testing.T) {
	r := newRig(t, Options{})
	rec := r.submit(t)
	r.publish(t, rec.ID, status(envelope.TypeStatus, 1))
	var reads int
	r.ev.Hook = func(_ context.Context, call, _ string) error {
		if call == "Read" {
			reads++
			if reads == 2 {
				return fmt.Errorf("plugin events restarting: %w", sdk.ErrUnavailable)
			}
		}
		return nil
	}
	var c collect
	done := make(chan error, 1)
	go func() { done <- r.s.Follow(context.Background(), rec, "", c.handle) }()
	time.Sleep(20 * time.Millisecond)
	r.publish(t, rec.ID, &envelope.Envelope{Type: envelope.TypeResult, Output: []byte(`2`)}, envelope.Done())
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.types, ","); got != "status,result,done" {
		t.Fatalf("relayed %s", got)
	}
}

// A refused Enqueue fails the record as infra and returns the error; an unavailable
// one is retried until it succeeds.
func TestEnqueueFailures(t *testing.T) {
	r := newRig(t, Options{})
	var unavailable int
	r.msg.Hook = func(_ context.Context, call, _ string) error {
		if call == "Enqueue" && unavailable < 2 {
			unavailable++
			return fmt.Errorf("restarting: %w", sdk.ErrUnavailable)
		}
		return nil
	}
	rec := r.submit(t)
	if _, err := r.msg.Result(context.Background(), "t", rec.ID); err != nil || unavailable != 2 {
		t.Fatalf("after %d unavailable tries the task is %v", unavailable, err)
	}
	r.msg.Hook = func(context.Context, string, string) error {
		return fmt.Errorf("payload too big: %w", sdk.ErrExhausted)
	}
	_, err := r.s.Submit(context.Background(), Request{Task: invocation.Task{InvocationID: "big", Tenant: "t", Function: "fn", Digest: "d", Runtime: "bun"}})
	if !errors.Is(err, sdk.ErrExhausted) {
		t.Fatalf("refused enqueue: %v", err)
	}
	if got := r.record(t, "big"); got.Status != invocation.StatusFailed || got.Error == nil || got.Error.Kind != envelope.KindInfra {
		t.Fatalf("record after a refused enqueue %+v", got)
	}
}

// A run whose end the follow sees at once is final with the start its status event
// gives; one still going is recorded running, from the same start.
func TestFollowRecordsTheStartOfTheRun(t *testing.T) {
	r := newRig(t, Options{})
	start := time.Now().Add(-time.Hour).UnixMilli()
	running := status(envelope.TypeStatus, 1)
	running.TS = start
	fast := r.submit(t)
	r.publish(t, fast.ID, running, &envelope.Envelope{Type: envelope.TypeResult, Output: []byte(`1`)}, envelope.Done())
	if err := r.s.Follow(context.Background(), fast, "", nil); err != nil {
		t.Fatal(err)
	}
	if got := r.record(t, fast.ID); got.Status != invocation.StatusSucceeded || got.StartedAt == nil || got.StartedAt.UnixMilli() != start || got.Attempts != 1 {
		t.Fatalf("fast run's record %+v", got)
	}

	slow := r.submit(t)
	r.publish(t, slow.ID, running)
	done := make(chan error, 1)
	go func() { done <- r.s.Follow(context.Background(), slow, "", nil) }()
	eventually(t, "record running", func() bool {
		got := r.record(t, slow.ID)
		return got.Status == invocation.StatusRunning && got.StartedAt != nil && got.StartedAt.UnixMilli() == start
	})
	r.publish(t, slow.ID, &envelope.Envelope{Type: envelope.TypeResult, Output: []byte(`1`)}, envelope.Done())
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := r.record(t, slow.ID); got.Status != invocation.StatusSucceeded || got.StartedAt.UnixMilli() != start {
		t.Fatalf("slow run's record %+v", got)
	}
}

// An enqueue that runs out of time while messaging is unavailable may have queued the
// task (a try can break after it was sent): its error says so, so the record is kept
// open for the lost-task check rather than closed as never queued.
func TestEnqueueGivingUpMayHaveQueued(t *testing.T) {
	r := newRig(t, Options{})
	r.msg.Hook = func(_ context.Context, call, _ string) error {
		if call == "Enqueue" {
			return fmt.Errorf("plane broke after the call was sent: %w", sdk.ErrUnavailable)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
	defer cancel()
	err := r.s.enqueue(ctx, &invocation.Task{InvocationID: "i1", Tenant: "t", Function: "fn", Runtime: "bun"})
	if !maybeQueued(err) || !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("enqueue that gave up: %v (maybe queued %v)", err, maybeQueued(err))
	}
}
