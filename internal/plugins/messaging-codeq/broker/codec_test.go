package broker

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/cockroachdb/pebble"
)

func fullRecord() record {
	return record{ID: "id-1", Tenant: "acme", Command: "sous.fn.acme.hello", Payload: []byte(`{"x":"\u00e9"}`),
		Priority: -3, MaxAttempts: 10, Attempts: 2, Status: StatusCompleted, WorkerID: "w1", LeaseUntil: 1700000001000,
		VisibleAt: 1700000000500, IdemKey: "k", Seq: 1 << 40, CreatedAt: 1700000000000, UpdatedAt: 1700000002000,
		CompletedAt: 1700000002000, Result: []byte(`{"ok":true}`), Error: "boom"}
}

// Every field survives the binary encoding, and a record cut short is an error.
func TestRecordCodecRoundTrip(t *testing.T) {
	for _, in := range []record{fullRecord(), {ID: "bare", Status: StatusPending}} {
		b := appendRecord(nil, &in)
		var out record
		if err := decodeRecord(b, &out); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(in, out) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", out, in)
		}
		for n := 1; n < len(b); n++ {
			if err := decodeRecord(b[:n], &record{}); err == nil {
				t.Fatalf("a record cut to %d of %d bytes decoded", n, len(b))
			}
		}
	}
	if err := decodeRecord([]byte{9, 1, 2}, &record{}); err == nil {
		t.Fatal("an unknown encoding decoded")
	}
}

// Records written as JSON (before the binary encoding) are still read on start.
func TestStoreReadsJSONRecords(t *testing.T) {
	dir := t.TempDir()
	old := fullRecord()
	old.Status, old.Result, old.CompletedAt, old.VisibleAt, old.WorkerID, old.LeaseUntil = StatusPending, nil, 0, 0, "", 0
	js, _ := json.Marshal(&old)
	db, err := pebble.Open(dir, pebbleOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set(taskKey(old.ID), js, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	st, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	var got []record
	if err := st.load(func(r *record) { got = append(got, *r) }, func([]byte, string) {}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], old) {
		t.Fatalf("loaded %+v, want %+v", got, old)
	}
}

// A task staged twice before its commit is one write of its latest state.
func TestStoreStagesOneWritePerTask(t *testing.T) {
	st, err := openStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	r := fullRecord()
	st.mu.Lock()
	st.stageTask(&r, false)
	r.Status, r.Attempts = StatusInProgress, 3
	st.stageTask(&r, false)
	other := record{ID: "id-2"}
	st.stageTask(&other, false)
	n, latest := len(st.ops), st.ops[0].rec
	st.mu.Unlock()
	if n != 2 || latest.Status != StatusInProgress || latest.Attempts != 3 {
		t.Fatalf("staged %d ops, first %s/%d; want 2 ops, the first the task's latest state", n, latest.Status, latest.Attempts)
	}
	if err := <-st.put(&r); err != nil {
		t.Fatal(err)
	}
	v, closer, err := st.db.Get(taskKey(r.ID))
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	var back record
	if err := decodeRecord(v, &back); err != nil || back.Status != StatusInProgress || back.Attempts != 3 {
		t.Fatalf("stored %+v (%v), want the latest state", back, err)
	}
}
