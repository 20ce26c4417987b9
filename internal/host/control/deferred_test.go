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

// holdEnqueue makes Enqueue say it started (on started, with the task's id) and wait
// for release, then return err.
func (r *rig) holdEnqueue(started chan<- string, release <-chan struct{}, err error) {
	r.msg.Hook = func(_ context.Context, call, id string) error {
		if call != "Enqueue" {
			return nil
		}
		started <- id
		<-release
		return err
	}
}

func deferredReq() Request {
	req := syncReq("")
	req.Deferred = true
	return req
}

// A Deferred call is followed while its task is still being queued: a run the queue
// delivered before its own sync (and that ended) is relayed at once, and the answer
// still waits for the queueing to be done.
func TestDeferredFollowsWhileTheTaskIsQueued(t *testing.T) {
	r := newRig(t, Options{})
	started, release := make(chan string, 1), make(chan struct{})
	r.holdEnqueue(started, release, nil)
	submitted := make(chan *Submitted, 1)
	go func() {
		sub, err := r.s.Submit(context.Background(), deferredReq())
		if err != nil {
			t.Error(err)
		}
		submitted <- sub
	}()
	id := <-started
	var sub *Submitted
	select {
	case sub = <-submitted:
	case <-time.After(5 * time.Second):
		t.Fatal("Submit of a Deferred call waited for the queueing")
	}
	r.publish(t, id, status(envelope.TypeStatus, 1), &envelope.Envelope{Type: envelope.TypeResult, Output: []byte(`{"ok":true}`)}, envelope.Done())
	var c collect
	followed := make(chan error, 1)
	go func() { followed <- r.s.FollowSubmitted(context.Background(), sub, c.handle) }()
	select {
	case err := <-followed:
		t.Fatalf("answered (%v) before the task's queueing was done", err)
	case <-time.After(50 * time.Millisecond):
	}
	if got := r.record(t, id); got.Status != invocation.StatusSucceeded {
		t.Fatalf("the run's outcome was not recorded while the queueing was pending: %s", got.Status)
	}
	close(release)
	if err := <-followed; err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.types, ","); got != "status,result,done" {
		t.Fatalf("relayed %s", got)
	}
}

// A Deferred call whose task surely was not queued ends its follow at once with a
// NotQueuedError, and its record is final (failed, infra).
func TestDeferredQueueFailureEndsTheFollow(t *testing.T) {
	r := newRig(t, Options{IdleTimeout: time.Minute})
	started, release := make(chan string, 1), make(chan struct{})
	refused := fmt.Errorf("payload: %w", sdk.ErrInvalid)
	r.holdEnqueue(started, release, refused)
	sub, err := r.s.Submit(context.Background(), deferredReq())
	if err != nil {
		t.Fatal(err)
	}
	id := <-started
	followed := make(chan error, 1)
	go func() { followed <- r.s.FollowSubmitted(context.Background(), sub, nil) }()
	close(release)
	select {
	case err := <-followed:
		var nq *NotQueuedError
		if !errors.As(err, &nq) || !errors.Is(err, sdk.ErrInvalid) {
			t.Fatalf("follow of an unqueued task: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the follow of a task that was not queued went on")
	}
	if got := r.record(t, id); got.Status != invocation.StatusFailed || got.Error == nil || got.Error.Kind != "infra" {
		t.Fatalf("record %+v", got)
	}
}
