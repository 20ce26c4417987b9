package harness

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestAcquireWaitsForAProcessOnItsWayBack: while a process's post-run check runs
// (ReleaseAfter), a run of its key waits for it instead of starting a process.
func TestAcquireWaitsForAProcessOnItsWayBack(t *testing.T) {
	p := NewPool(4, time.Hour)
	pr := &Proc{key: "k", exited: make(chan struct{})}
	checked := make(chan bool)
	p.ReleaseAfter(pr, func() bool { return <-checked })
	noStart := func() (*Proc, error) { return nil, errors.New("started a process while one was on its way back") }

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Acquire(ctx, "k", noStart); !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire during the check: got %v, want it to wait (and end with its context)", err)
	}
	checked <- true
	got, err := p.Acquire(context.Background(), "k", noStart)
	if err != nil || got != pr {
		t.Fatalf("acquire after the check: got %v, %v; want the process back", got, err)
	}
}
