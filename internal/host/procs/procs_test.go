package procs

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// waitProcs polls GOMAXPROCS until it is want, failing after a few seconds.
func waitProcs(t *testing.T, want int, why string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.GOMAXPROCS(0) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s: GOMAXPROCS %d, want %d", why, runtime.GOMAXPROCS(0), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestGovernorFollowsTheLoad: one call of each kind at a time takes the runtime down
// to one P, a second call of a kind brings it back up to all of them at once, and the
// end of Run leaves it at all of them.
func TestGovernorFollowsTheLoad(t *testing.T) {
	const max = 4
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max))
	g := New(max)
	requests, runs := g.Lane(), g.Lane()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.Run(ctx); close(done) }()

	endReq, endRun := requests.Begin(), runs.Begin() // a request and its run: one call each
	waitProcs(t, 1, "one request and one run in flight")

	endSecond := requests.Begin()
	waitProcs(t, max, "two requests in flight")
	endSecond()
	waitProcs(t, 1, "back to one request")

	endReq()
	endRun()
	cancel()
	<-done
	if n := runtime.GOMAXPROCS(0); n != max {
		t.Fatalf("after Run: GOMAXPROCS %d, want %d", n, max)
	}
}

// TestGovernorSeesOverlapsBetweenLooks: two calls that overlap and end between two
// looks still count, so a burst of short concurrent calls keeps every P.
func TestGovernorSeesOverlapsBetweenLooks(t *testing.T) {
	const max = 4
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max))
	g := New(max)
	l := g.Lane()
	g.set(1)
	a, b := l.Begin(), l.Begin()
	a()
	b()
	if !g.busy() {
		t.Fatal("an overlap that ended before the look was missed")
	}
	if g.busy() {
		t.Fatal("the overlap was counted again at the next look")
	}
	if New(1) != nil || New(1).Lane() != nil {
		t.Fatal("a governor over one P has nothing to choose")
	}
	New(1).Lane().Begin()() // a nil lane counts nothing
}

// TestOneGovernorPerProcess: while one governor runs, a second one's Run returns at
// once and leaves GOMAXPROCS alone.
func TestOneGovernorPerProcess(t *testing.T) {
	const max = 4
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max))
	first, second := New(max), New(max)
	first.Lane().Begin()
	ctx, cancel := context.WithCancel(context.Background())
	firstDone := make(chan struct{})
	defer func() { cancel(); <-firstDone }() // the next test's governor must find none
	go func() { first.Run(ctx); close(firstDone) }()
	waitProcs(t, 1, "the first governor at one call")
	busy := second.Lane()
	busy.Begin()
	busy.Begin()
	ended := make(chan struct{})
	go func() { second.Run(ctx); close(ended) }()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("a second governor ran beside the first")
	}
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Fatalf("the second governor changed GOMAXPROCS to %d", n)
	}
}
