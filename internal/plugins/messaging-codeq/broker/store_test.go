package broker

import (
	"strconv"
	"testing"

	"github.com/cockroachdb/pebble"
)

// Tasks enqueued, leased and acked while the memtable fills never reach a table file:
// four 1 MiB tasks in flight at once, each stored, stored again when leased and then
// removed, leave next to nothing to flush (Pebble's 4 MiB default memtable flushed
// them, and compactions rewrote them).
func TestAckedLargeTasksStayOutOfTableFiles(t *testing.T) {
	s, err := openStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	// Pebble starts with a 256 KiB memtable and doubles it at each rotation: grow it to
	// its size first, as a broker that has been running has.
	for range 8 {
		if err := s.db.Set([]byte("warm"), nil, pebble.NoSync); err != nil {
			t.Fatal(err)
		}
		if err := s.db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	before := s.db.Metrics().Levels[0].BytesFlushed
	payload := noise(1 << 20) // incompressible: flushed bytes are task bytes
	var tasks []*record
	for i := range 4 {
		tasks = append(tasks, &record{ID: "t" + strconv.Itoa(i), Tenant: "acme", Command: "run", Payload: payload, Status: "PENDING"})
	}
	for _, step := range []func(*record) <-chan error{s.put, func(r *record) <-chan error { r.Status = "IN_PROGRESS"; return s.put(r) }, s.del} {
		for _, r := range tasks {
			if err := <-step(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	if out := s.db.Metrics().Levels[0].BytesFlushed - before; out > 256<<10 {
		t.Fatalf("%.1f MiB of 12 MiB of acked tasks went to table files", float64(out)/(1<<20))
	}
}

// noise is n bytes of letters that snappy cannot shrink.
func noise(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = 'a' + byte(x%26)
	}
	return b
}
