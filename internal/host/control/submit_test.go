package control

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

var errSync = errors.New("fsync: input/output error")

// holdRecord makes each new record's durable write wait for release and then return
// err (nil: the real write's result); *id is the last record's id.
func (r *rig) holdRecord(release <-chan struct{}, err error) (id *string) {
	id = new(string)
	r.s.startRecord = func(inv *store.Invocation) (*store.Invocation, bool, func() error, error) {
		got, created, wait, serr := r.st.StartInvocation(inv)
		if serr != nil || !created {
			return got, created, wait, serr
		}
		*id = got.ID
		return got, created, func() error {
			werr := wait()
			<-release
			if err != nil {
				return err
			}
			return werr
		}, nil
	}
	return id
}

func syncReq(key string) Request {
	return Request{IdempotencyKey: key, Task: invocation.Task{Tenant: "t", Function: "fn", Digest: "d", Runtime: "bun"}}
}

// The task is queued while the record goes to disk, and the record is readable by then;
// Submit answers only once both are durable.
func TestSubmitQueuesWhileTheRecordSyncs(t *testing.T) {
	r := newRig(t, Options{})
	release := make(chan struct{})
	r.holdRecord(release, nil)
	queued := make(chan string, 1)
	r.msg.Hook = func(_ context.Context, call, id string) error {
		if call == "Enqueue" {
			if _, err := r.st.GetInvocation("t", id); err != nil {
				return fmt.Errorf("record not readable at enqueue: %w", err)
			}
			queued <- id
		}
		return nil
	}
	answered := make(chan error, 1)
	go func() {
		_, err := r.s.Submit(context.Background(), syncReq(""))
		answered <- err
	}()
	select {
	case <-queued:
	case <-time.After(5 * time.Second):
		t.Fatal("the task was not queued while the record's durable write was pending")
	}
	select {
	case err := <-answered:
		t.Fatalf("Submit answered (%v) before the record was durable", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
}

// The record's durable write fails after the task was queued: the caller is told it may
// still run, the key is kept (a retry does not run it twice) and the run still finalizes
// the record.
func TestRecordFailsAfterTheTaskIsQueued(t *testing.T) {
	r := newRig(t, Options{})
	release := make(chan struct{})
	close(release)
	held := r.holdRecord(release, errSync)
	_, err := r.s.Submit(context.Background(), syncReq("k1"))
	if !errors.Is(err, errSync) || !strings.Contains(err.Error(), "may still run") {
		t.Fatalf("submit: %v", err)
	}
	id := *held
	if _, qerr := r.msg.Result(context.Background(), "t", id); qerr != nil {
		t.Fatalf("the task is not queued: %v", qerr)
	}
	r.s.startRecord = r.st.StartInvocation
	again, err := r.s.Submit(context.Background(), syncReq("k1"))
	if err != nil || !again.Existing || again.Record.ID != id {
		t.Fatalf("a retry with the key: %+v, %v", again, err)
	}
	r.publish(t, id, status(envelope.TypeStatus, 1), &envelope.Envelope{Type: envelope.TypeResult, Output: []byte(`1`)}, envelope.Done())
	eventually(t, "the record finalized by the run", func() bool {
		return r.record(t, id).Status == invocation.StatusSucceeded
	})
}

// Both fail: the task was refused, so the record is closed as failed infra, the key is
// freed and the caller gets the record's error.
func TestRecordAndEnqueueBothFail(t *testing.T) {
	r := newRig(t, Options{})
	release := make(chan struct{})
	close(release)
	held := r.holdRecord(release, errSync)
	r.msg.Hook = func(_ context.Context, call, _ string) error {
		if call == "Enqueue" {
			return fmt.Errorf("payload too big: %w", sdk.ErrExhausted)
		}
		return nil
	}
	_, err := r.s.Submit(context.Background(), syncReq("k2"))
	if !errors.Is(err, errSync) || strings.Contains(err.Error(), "may still run") {
		t.Fatalf("submit: %v", err)
	}
	r.s.startRecord = r.st.StartInvocation
	r.msg.Hook = nil
	again, err := r.s.Submit(context.Background(), syncReq("k2"))
	if err != nil || again.Existing {
		t.Fatalf("a retry with the freed key must run anew: %+v, %v", again, err)
	}
	if got := r.record(t, *held); got.Status != invocation.StatusFailed || got.Error == nil || got.Error.Kind != envelope.KindInfra {
		t.Fatalf("record of the refused task %+v", got)
	}
}

// Only a call answered with its outcome alone, with no Idempotency-Key or callback,
// leaves its record's sync to the final write (store.StartInvocationLater); every
// other submit waits for the record's own sync.
func TestSyncLaterCallsLeaveTheRecordSyncToTheFinalWrite(t *testing.T) {
	r := newRig(t, Options{})
	var synced []string
	r.s.startRecord = func(inv *store.Invocation) (*store.Invocation, bool, func() error, error) {
		synced = append(synced, inv.ID)
		return r.st.StartInvocation(inv)
	}
	for _, c := range []struct {
		req  Request
		sync bool
	}{
		{Request{SyncLater: true}, false},
		{Request{}, true},
		{Request{SyncLater: true, IdempotencyKey: "k"}, true},
		{Request{SyncLater: true, Async: true}, true},
	} {
		before := len(synced)
		c.req.Task = invocation.Task{Tenant: "t", Function: "fn", Digest: "d", Runtime: "bun"}
		sub, err := r.s.Submit(context.Background(), c.req)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(synced) > before; got != c.sync {
			t.Errorf("%+v: record synced on its own %v, want %v", c.req, got, c.sync)
		}
		if _, err := r.st.GetInvocation("t", sub.Record.ID); err != nil {
			t.Errorf("%+v: record not readable after Submit: %v", c.req, err)
		}
	}
}

// A record left to its final write's sync is made durable before any other answer names
// it (here an idle timeout, then a GET of it), and only then: after its final write,
// and for a record synced at its start, nothing more is synced.
func TestUnsyncedRecordIsSyncedBeforeAnyOtherAnswer(t *testing.T) {
	r := newRig(t, Options{IdleTimeout: 50 * time.Millisecond})
	var synced []string
	r.s.syncRecords = func(what string) error {
		synced = append(synced, what)
		return r.st.SyncRecords(what)
	}
	follow := func(req Request, publish bool) *store.Invocation {
		t.Helper()
		req.Task = invocation.Task{Tenant: "t", Function: "fn", Digest: "d", Runtime: "bun"}
		sub, err := r.s.Submit(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if publish {
			r.publish(t, sub.Record.ID, status(envelope.TypeStatus, 1), &envelope.Envelope{Type: envelope.TypeResult, Output: []byte(`1`)}, envelope.Done())
		}
		if err := r.s.Follow(context.Background(), sub.Record, "", nil); err != nil {
			t.Fatal(err)
		}
		return sub.Record
	}
	timedOut := follow(Request{SyncLater: true}, false)
	if len(synced) != 1 || !strings.Contains(synced[0], timedOut.ID) {
		t.Fatalf("after a timeout answer: synced %v, want the record %s once", synced, timedOut.ID)
	}
	follow(Request{SyncLater: true}, true)
	follow(Request{}, false)
	if len(synced) != 1 {
		t.Fatalf("synced %v: a record after its final write, or synced at its start, was synced again", synced)
	}
	// A GET of a record still left to its final write (its caller not answered yet).
	sub, err := r.s.Submit(context.Background(), Request{SyncLater: true, Task: invocation.Task{Tenant: "t", Function: "fn", Digest: "d", Runtime: "bun"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.s.Get(context.Background(), "t", sub.Record.ID); err != nil {
		t.Fatal(err)
	}
	if len(synced) != 2 || !strings.Contains(synced[1], sub.Record.ID) {
		t.Fatalf("after a GET: synced %v, want the record %s", synced, sub.Record.ID)
	}
}
