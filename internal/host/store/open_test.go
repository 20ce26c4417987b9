package store

import (
	"errors"
	"reflect"
	"testing"

	"github.com/sous-run/sous/internal/host/invocation"
)

// createT records a pending invocation of acme/hello with an input and a callback.
func createT(t *testing.T, s *Store) *Invocation {
	t.Helper()
	inv, _, err := s.CreateInvocation(&Invocation{Tenant: "acme", Function: "hello", Version: 1, Input: []byte(`{"n":1}`),
		Callback: &Callback{URL: "http://example.test/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// toStatus moves a record to st.
func toStatus(t *testing.T, s *Store, id string, st invocation.Status) *Invocation {
	t.Helper()
	got, err := s.UpdateInvocation("acme", id, func(i *Invocation) error { i.Status = st; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Every change of an open record builds on the record as stored, whatever the callers
// did with the records they were given or given to change, and the returned record is
// what is stored.
func TestOpenRecordChangesBuildOnTheStoredRecord(t *testing.T) {
	s := openT(t)
	inv := createT(t, s)
	inv.Input[0], inv.Callback.URL = 'x', "http://changed.test" // the creator's copy
	running := toStatus(t, s, inv.ID, invocation.StatusRunning)
	running.Input[0], running.StartedAt = 'y', nil
	boom := errors.New("boom")
	_, err := s.UpdateInvocation("acme", inv.ID, func(i *Invocation) error {
		i.Callback.URL, i.Input[1] = "http://refused.test", 'z' // then refuse: nothing may stick
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("refused change: %v", err)
	}
	final := toStatus(t, s, inv.ID, invocation.StatusSucceeded)
	stored, err := s.GetInvocation("acme", inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(stored.Input) != `{"n":1}` || stored.Callback.URL != "http://example.test/cb" || stored.Callback.Status != CallbackWaiting ||
		stored.StartedAt == nil || stored.Status != invocation.StatusSucceeded {
		t.Fatalf("stored record %+v (callback %+v)", stored, stored.Callback)
	}
	if !reflect.DeepEqual(final, stored) {
		t.Fatalf("returned %+v\nstored   %+v", final, stored)
	}
}

// A callback change written beside the open record is kept by the record's next change.
func TestOpenRecordSeesCallbackChanges(t *testing.T) {
	s := openT(t)
	inv := createT(t, s)
	toStatus(t, s, inv.ID, invocation.StatusRunning)
	if _, err := s.UpdateCallback("acme", inv.ID, func(c *Callback) { c.Status = CallbackElsewhere }); err != nil {
		t.Fatal(err)
	}
	toStatus(t, s, inv.ID, invocation.StatusSucceeded)
	if got, err := s.GetInvocation("acme", inv.ID); err != nil || got.Callback.Status != CallbackElsewhere {
		t.Fatalf("record %+v, %v", got, err)
	}
}

// In cluster mode records also arrive through the log: none is kept.
func TestOpenRecordsNotKeptInClusterMode(t *testing.T) {
	s := openT(t)
	s.SetReplicator(copyReplicator{stores: []*Store{s}})
	inv := createT(t, s)
	toStatus(t, s, inv.ID, invocation.StatusRunning)
	if n := len(s.open.m); n != 0 {
		t.Fatalf("%d records kept", n)
	}
}

// Kept records stay within the byte budget, and forgetting them gives it back.
func TestOpenRecordsBudget(t *testing.T) {
	var o openRecords
	big := &Invocation{Status: invocation.StatusPending, Input: make([]byte, openMaxBytes)}
	n := openBudget / openMaxBytes
	for i := range n + 3 {
		o.keep([]byte{byte(i >> 8), byte(i)}, big)
	}
	if len(o.m) != n || o.bytes != openBudget {
		t.Fatalf("%d records, %d bytes kept", len(o.m), o.bytes)
	}
	o.keep([]byte{0, 0}, &Invocation{Status: invocation.StatusSucceeded})
	if len(o.m) != n-1 || o.bytes != openBudget-openMaxBytes {
		t.Fatalf("after a final record: %d records, %d bytes kept", len(o.m), o.bytes)
	}
	o.keep([]byte{0, 1}, &Invocation{Status: invocation.StatusRunning, Input: make([]byte, openMaxBytes+1)})
	if _, ok := o.m[string([]byte{0, 1})]; ok || o.bytes != openBudget-2*openMaxBytes {
		t.Fatalf("an oversized record replaced a kept one: %d bytes kept", o.bytes)
	}
}
