package broker

import (
	"bytes"
	"strconv"
	"testing"
)

// Tasks enqueued and acked while the memtable fills never reach a table file: a
// burst of 1 MiB tasks, each removed after it was stored, leaves level 0 empty
// (Pebble's 4 MiB default memtable flushed them, and compactions rewrote them).
func TestAckedLargeTasksStayOutOfTableFiles(t *testing.T) {
	s, err := openStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	payload := bytes.Repeat([]byte("x"), 1<<20)
	for i := range 12 {
		r := &record{ID: "t" + strconv.Itoa(i), Tenant: "acme", Command: "run", Payload: payload, Status: "PENDING"}
		if err := <-s.put(r); err != nil {
			t.Fatal(err)
		}
		if err := <-s.del(r); err != nil {
			t.Fatal(err)
		}
	}
	m := s.db.Metrics()
	if m.Flush.Count != 0 || m.Levels[0].BytesIn != 0 {
		t.Fatalf("12 MiB of acked tasks went to table files: %d flushes, %d bytes into level 0", m.Flush.Count, m.Levels[0].BytesIn)
	}
}
