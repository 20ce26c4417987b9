package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/workerpb"
)

// leaseMargin is how long before its lease ends a claim still held is given back.
const leaseMargin = 500 * time.Millisecond

// leaseEnd parses a task's lease_until (RFC 3339; codeQ writes whole seconds).
func leaseEnd(t *workerpb.Task) time.Time {
	at, err := time.Parse(time.RFC3339Nano, t.LeaseUntil)
	if err != nil {
		return time.Time{}
	}
	return at
}

// leaseLoop gives back, shortly before its lease ends, every claim this process still
// holds: a Nack (delay 1 s, reason "lease expired") counts the attempt as an expiry
// would. codeQ's own lease reaper moves an expired task to its delayed set in a way
// its claim path can miss for tens of seconds; a Nack from the worker does not stall.
// The host extends live leases long before this fires, so it only catches runs the
// host has lost track of. If this process dies with its leases, codeQ's reaper is the
// only way back (see the README).
func (w *Worker) leaseLoop() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		}
		now := time.Now()
		var due []string
		w.mu.Lock()
		for id, h := range w.leases {
			if !h.until.IsZero() && now.After(h.until.Add(-leaseMargin)) {
				due = append(due, id)
				delete(w.leases, id)
			}
		}
		w.mu.Unlock()
		for _, id := range due {
			go w.expire(id)
		}
	}
}

func (w *Worker) expire(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := w.Nack(ctx, id, 1, "lease expired"); err != nil {
		w.log.Debug("give back an expiring lease", "task", id, "error", err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
