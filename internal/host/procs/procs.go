// Package procs fits the host's Go runtime to its load. On a small machine shared with
// plugins and functions, a P with nothing to run is not free: each goroutine made
// runnable wakes an idle P's thread to look for work, and at one call at a time those
// wake-ups are most of the host's context switches (README "Performance"). A Governor
// keeps the host at one P while it serves at most one call at a time of each kind
// (requests, runs) and gives it all of its Ps as soon as two overlap.
package procs

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"
)

// quietFor is how long the load must stay at one call of each kind before the
// governor goes down to one P; it goes up at the second call at once.
const quietFor = 300 * time.Millisecond

// Governor sets GOMAXPROCS between 1 and max from the calls its lanes count. A nil
// Governor counts nothing and never changes GOMAXPROCS.
type Governor struct {
	max   int
	lanes []*Lane
	low   atomic.Bool   // GOMAXPROCS is 1
	up    chan struct{} // a lane reached two calls while low
}

// Lane counts the calls of one kind in flight.
type Lane struct {
	g      *Governor
	active atomic.Int64
	peak   atomic.Int64 // the most active since the governor last looked
}

// New returns a governor for up to max Ps, or nil when max is 1 or less (nothing to
// choose from).
func New(max int) *Governor {
	if max <= 1 {
		return nil
	}
	return &Governor{max: max, up: make(chan struct{}, 1)}
}

// Lane adds a kind of call to count; call it before Run.
func (g *Governor) Lane() *Lane {
	if g == nil {
		return nil
	}
	l := &Lane{g: g}
	g.lanes = append(g.lanes, l)
	return l
}

// Begin counts a call until end is called.
func (l *Lane) Begin() (end func()) {
	if l == nil {
		return func() {}
	}
	n := l.active.Add(1)
	for p := l.peak.Load(); n > p && !l.peak.CompareAndSwap(p, n); p = l.peak.Load() {
	}
	if n > 1 && l.g.low.Load() {
		select {
		case l.g.up <- struct{}{}:
		default:
		}
	}
	return func() { l.active.Add(-1) }
}

// governing is held by the Run in progress: GOMAXPROCS is the process's, so a second
// host in one process (tests run several) leaves it to the first.
var governing atomic.Bool

// Run governs GOMAXPROCS until ctx ends, then gives the runtime max Ps again. It
// returns at once while another governor of this process runs. Setting GOMAXPROCS
// stops the runtime from following a later change of the container's CPU limit: max
// is what it was when the host started.
func (g *Governor) Run(ctx context.Context) {
	if g == nil || !governing.CompareAndSwap(false, true) {
		return
	}
	defer governing.Store(false)
	defer g.set(g.max)
	look := time.NewTicker(quietFor / 3)
	defer look.Stop()
	quiet := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-g.up:
			g.set(g.max)
			quiet = 0
		case <-look.C:
			if g.busy() {
				g.set(g.max)
				quiet = 0
			} else if quiet++; quiet >= 3 {
				g.set(1)
			}
		}
	}
}

// busy reports whether a lane had two calls at once since the last look, and starts
// the next look's count from what is in flight now.
func (g *Governor) busy() bool {
	busy := false
	for _, l := range g.lanes {
		if l.peak.Swap(l.active.Load()) > 1 {
			busy = true
		}
	}
	return busy
}

// set gives the runtime n Ps unless it has them already.
func (g *Governor) set(n int) {
	if g.low.Load() == (n == 1) {
		return
	}
	g.low.Store(n == 1)
	runtime.GOMAXPROCS(n)
}
