package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble"
)

// Run with: go test -run '^$' -bench Open ./internal/host/store/
// Only Open is timed (Close is excluded). The floor is opening an empty store; report Open100k as a ratio to it.

func benchOpen(b *testing.B, records int) {
	dir := b.TempDir()
	s, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now().Add(-time.Hour)
	for i := 0; i < records; {
		batch := s.db.NewBatch()
		for j := 0; j < 5000 && i < records; j, i = j+1, i+1 {
			inv := &Invocation{Tenant: fmt.Sprintf("t%d", i%10), Function: "fn", Version: 1,
				CreatedAt: start.Add(time.Duration(i) * time.Millisecond), Input: []byte(`{"n":1}`)}
			if err := addInvocation(batch, inv); err != nil {
				b.Fatal(err)
			}
		}
		if err := batch.Commit(pebble.NoSync); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

func BenchmarkOpenEmptyFloor(b *testing.B)      { benchOpen(b, 0) }
func BenchmarkOpen100kInvocations(b *testing.B) { benchOpen(b, 100_000) }
