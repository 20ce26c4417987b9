package store

import (
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/sous-run/sous/internal/host/invocation"
)

// StartInvocation decides the record (new, or the key's earlier one) and makes it
// readable before its durable write is waited for.
func TestStartInvocationIsReadableBeforeWait(t *testing.T) {
	s := openT(t)
	inv, created, wait, err := s.StartInvocation(&Invocation{Tenant: "acme", Function: "hello", IdempotencyKey: "k"})
	if err != nil || !created {
		t.Fatalf("start = %v %v", created, err)
	}
	if got, err := s.GetInvocation("acme", inv.ID); err != nil || got.ID != inv.ID {
		t.Fatalf("before wait: %+v %v", got, err)
	}
	again, created2, wait2, err := s.StartInvocation(&Invocation{Tenant: "acme", Function: "hello", IdempotencyKey: "k"})
	if err != nil || created2 || again.ID != inv.ID {
		t.Fatalf("same key before the first wait: %+v %v %v", again, created2, err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if err := wait2(); err != nil {
		t.Fatal(err)
	}
}

// StartInvocationLater's record is readable at once and makes no sync of its own; the
// final write's sync takes it to disk with it.
func TestStartInvocationLaterWaitsForTheFinalSync(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	// Pebble counts a sync just after it releases the sync's waiters.
	syncs := func() uint64 {
		var m dto.Metric
		if err := s.db.Metrics().LogWriter.FsyncLatency.Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetHistogram().GetSampleCount()
	}
	syncsAbove := func(n uint64) bool {
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if syncs() > n {
				return true
			}
		}
		return false
	}
	_, _, wait, err := s.StartInvocation(&Invocation{Tenant: "acme", Function: "hello"})
	if err != nil || wait() != nil {
		t.Fatalf("durable start: %v", err)
	}
	time.Sleep(20 * time.Millisecond) // every sync asked for so far is counted by then
	before := syncs()
	if before == 0 {
		t.Fatal("the durable start made no sync: the count says nothing")
	}
	inv, created, wait, err := s.StartInvocationLater(&Invocation{Tenant: "acme", Function: "hello"})
	if err != nil || !created || wait() != nil {
		t.Fatalf("start later = %v %v", created, err)
	}
	if got, err := s.GetInvocation("acme", inv.ID); err != nil || got.Status != invocation.StatusPending {
		t.Fatalf("readable at once: %+v %v", got, err)
	}
	time.Sleep(20 * time.Millisecond) // a sync it asked for would be counted by then
	if n := syncs(); n != before {
		t.Fatalf("the record made %d syncs of its own", n-before)
	}
	if _, err := s.UpdateInvocation("acme", inv.ID, func(i *Invocation) error { i.Status = invocation.StatusSucceeded; return nil }); err != nil {
		t.Fatal(err)
	}
	if !syncsAbove(before) {
		t.Fatal("the final write made no sync")
	}
	s.Close()
	if s, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetInvocation("acme", inv.ID); err != nil || got.Status != invocation.StatusSucceeded {
		t.Fatalf("after reopening: %+v %v", got, err)
	}
}
