package worker

import (
	"sync"
	"time"
)

// statusGate holds a run's `status: running` envelope so that it goes out in the same
// Publish as the run's first envelope (for a run that emits nothing else, with its
// terminal event and done): one call to the event log and one wake-up of every reader
// fewer per invocation. A run that emits nothing within the delay gets its status
// published alone then, so a long run still shows as running while it runs.
type statusGate struct {
	mu      sync.Mutex
	raw     []byte // the status, nil once taken
	publish func(...[]byte) error
	timer   *time.Timer
	done    chan struct{} // closed once whoever took the status has published it (or failed)
	err     error         // that publish's error; read after done
}

// newStatusGate holds raw for up to delay, then hands it to publish alone.
func newStatusGate(raw []byte, delay time.Duration, publish func(...[]byte) error) *statusGate {
	g := &statusGate{raw: raw, publish: publish, done: make(chan struct{})}
	g.mu.Lock() // take waits for the timer to be set
	defer g.mu.Unlock()
	g.timer = time.AfterFunc(delay, g.flush)
	return g
}

// flush publishes the status alone if it is still held, and returns once it is in
// the log (or failed to be): an attempt lost before its first event still shows in the
// log that it ran.
func (g *statusGate) flush() {
	if raw := g.take(); raw != nil {
		g.settle(g.publish(raw))
		return
	}
	<-g.done
}

// take returns the status if it is still held and marks it taken (the timer stopped).
func (g *statusGate) take() []byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	raw := g.raw
	g.raw = nil
	g.timer.Stop()
	return raw
}

func (g *statusGate) settle(err error) {
	g.err = err
	close(g.done)
}

// lead returns the batch to publish in place of envs: the status first when it is
// still held (owner: the caller must settle the batch's outcome), or envs alone once the
// status is in the log. err is the status's own publish error.
func (g *statusGate) lead(envs ...[]byte) (batch [][]byte, owner bool, err error) {
	if raw := g.take(); raw != nil {
		return append([][]byte{raw}, envs...), true, nil
	}
	<-g.done
	return envs, false, g.err
}

// wait returns the status's publish error once it is published; nil while it is
// still held (it will lead the next batch).
func (g *statusGate) wait() error {
	g.mu.Lock()
	held := g.raw != nil
	g.mu.Unlock()
	if held {
		return nil
	}
	<-g.done
	return g.err
}
