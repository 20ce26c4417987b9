package store

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
)

// gateReplicator applies each proposed write only when its gate is opened, like a log
// whose commit is slow.
type gateReplicator struct {
	st   *Store
	mu   sync.Mutex
	gate chan struct{}
	down bool
}

func (g *gateReplicator) Propose(repr []byte) (func() error, error) {
	g.mu.Lock()
	gate, down := g.gate, g.down
	g.mu.Unlock()
	if down {
		return nil, ErrUnavailable
	}
	return func() error {
		<-gate
		return g.st.ApplyReplicated(repr)
	}, nil
}

// With a replicator, an update of a record whose creation is still on its way through
// the log waits for it instead of missing it; a refused write leaves nothing behind.
func TestReplicatedRecordWaitsForItsCreation(t *testing.T) {
	st, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	g := &gateReplicator{st: st, gate: make(chan struct{})}
	st.SetReplicator(g)
	created := make(chan error, 1)
	go func() {
		_, _, err := st.CreateInvocation(&Invocation{ID: "0123456789ab0123456789abcdef", Tenant: "acme", Function: "hello"})
		created <- err
	}()
	waitFlight(t, st)
	updated := make(chan error, 1)
	go func() {
		_, err := st.UpdateInvocation("acme", "0123456789ab0123456789abcdef", func(i *Invocation) error { i.Status = invocation.StatusRunning; return nil })
		updated <- err
	}()
	select {
	case err := <-updated:
		t.Fatalf("update finished before the creation was applied: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(g.gate)
	if err := <-created; err != nil {
		t.Fatal(err)
	}
	if err := <-updated; err != nil {
		t.Fatalf("update after the creation: %v", err)
	}
	if got, err := st.GetInvocation("acme", "0123456789ab0123456789abcdef"); err != nil || got.Status != invocation.StatusRunning {
		t.Fatalf("record %+v, %v", got, err)
	}
	g.mu.Lock()
	g.down = true
	g.mu.Unlock()
	if _, err := st.CreateVersion("acme", "hello", &Bundle{Runtime: "bun", Entry: "i.js", Files: map[string][]byte{"i.js": []byte("1")}}, "dev"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("deploy without a quorum: %v", err)
	}
	if _, err := st.GetFunction("acme", "hello"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a refused deploy left something: %v", err)
	}
}

// waitFlight waits until a record write is in flight.
func waitFlight(t *testing.T, st *Store) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		st.flight.mu.Lock()
		n := len(st.flight.m)
		st.flight.mu.Unlock()
		if n > 0 {
			return
		}
	}
	t.Fatal("no record write in flight")
}
