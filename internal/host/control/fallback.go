package control

import (
	"context"
	"sync"
	"time"

	"github.com/sous-run/sous/internal/host/store"
)

// healthCache remembers the events driver's health for a second, so the fallback
// decision costs no call on most invocations.
type healthCache struct {
	mu      sync.Mutex
	checked time.Time
	up      bool
}

// inlineNow reports whether a sync or stream invocation must run in this process: there
// is no events driver, or it is down and events.fallback is inline (and this process
// has executors to run it with).
func (s *Service) inlineNow(ctx context.Context) bool {
	if s.events == nil {
		return true
	}
	if !s.opt.FallbackInline || s.runner == nil || s.opt.EventsHealth == nil {
		return false
	}
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if time.Since(h.checked) > time.Second {
		cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err := s.opt.EventsHealth(cctx)
		cancel()
		h.up, h.checked = err == nil, time.Now()
		if err != nil {
			s.log.Warn("events driver down; running sync invocations inline", "error", err)
		}
	}
	return !h.up
}

// awaitRecord serves Follow when there is no event log (inline mode): it waits for the
// record to be final, then sends its terminal event and done.
func (s *Service) awaitRecord(ctx context.Context, rec *store.Invocation, h Handler) error {
	deadline := time.NewTimer(max(time.Until(rec.CreatedAt.Add(s.opt.TotalTimeout)), time.Millisecond))
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		cur, err := s.Get(ctx, rec.Tenant, rec.ID)
		if err != nil {
			return err
		}
		if cur.Status.Final() {
			return SendOutcome(cur, h)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return s.timeOut(ctx, rec, "invocation ran past "+s.opt.TotalTimeout.String(), h, true)
		case <-tick.C:
		}
	}
}
