package control

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// ReapLost finalizes, as infra, an open record whose task messaging no longer knows,
// and leaves one whose task is still queued.
func TestReapLost(t *testing.T) {
	r := newRig(t, Options{LostAfter: 10 * time.Millisecond})
	lost, queued := r.submit(t), r.submit(t)
	r.msg.Forget("t", lost.ID)
	time.Sleep(30 * time.Millisecond)
	n, err := r.s.ReapLost(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("ReapLost = %d, %v; want 1", n, err)
	}
	got := r.record(t, lost.ID)
	if got.Status != invocation.StatusFailed || got.Error == nil || got.Error.Kind != envelope.KindInfra || got.Error.Message != LostMessage {
		t.Fatalf("lost record %+v", got)
	}
	if got := r.record(t, queued.ID); got.Status.Final() {
		t.Fatalf("a queued task's record was reaped: %s", got.Status)
	}
}

// ReapOnce finalizes stale records: from messaging's result when the run finished
// (never mislabelled as timeout), as timeout when it did not, and skips any record
// messaging cannot answer for now.
func TestReapOnce(t *testing.T) {
	r := newRig(t, Options{StaleAfter: 10 * time.Millisecond})
	done, stuck, unknown := r.submit(t), r.submit(t), r.submit(t)
	r.completed(t, done.ID, invocation.Outcome{InvocationID: done.ID, Status: invocation.StatusSucceeded, Output: []byte(`3`)})
	r.msg.Hook = func(_ context.Context, call, id string) error {
		if call == "Result" && id == unknown.ID {
			return fmt.Errorf("broker down: %w", sdk.ErrUnavailable)
		}
		return nil
	}
	time.Sleep(30 * time.Millisecond)
	n, err := r.s.ReapOnce(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("ReapOnce = %d, %v; want 2", n, err)
	}
	if got := r.record(t, done.ID); got.Status != invocation.StatusSucceeded || string(got.Output) != "3" {
		t.Fatalf("finished run reaped as %+v", got)
	}
	if got := r.record(t, stuck.ID); got.Status != invocation.StatusTimeout || got.Error == nil || got.Error.Kind != envelope.KindTimeout {
		t.Fatalf("stuck run reaped as %+v", got)
	}
	if got := r.record(t, unknown.ID); got.Status.Final() {
		t.Fatalf("a record messaging could not answer for was reaped: %s", got.Status)
	}
}

// Get finalizes an open record from messaging: a dead task is a failed invocation
// with kind infra.
func TestGetFinalizesDeadTask(t *testing.T) {
	r := newRig(t, Options{})
	rec := r.submit(t)
	r.msg.Set("t", sdk.TaskResult{ID: rec.ID, Status: sdk.TaskDead, Error: "worker lost", Attempts: 3})
	got, err := r.s.Get(context.Background(), "t", rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != invocation.StatusFailed || got.Error == nil || got.Error.Kind != envelope.KindInfra || got.Attempts != 3 {
		t.Fatalf("record %+v", got)
	}
	if _, err := r.s.Get(context.Background(), "t", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}
