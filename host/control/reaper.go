package control

import (
	"context"
	"fmt"
	"time"

	"github.com/sous-run/sous/host/invocation"
	"github.com/sous-run/sous/host/store"
	"github.com/sous-run/sous/host/telemetry"
	"github.com/sous-run/sous/sdk/envelope"
)

// Reap runs the reaper until ctx ends: every reaper_interval it marks records stuck in
// pending or running for stale_after as timeout, after asking messaging for a result
// so a finished run is never mislabelled.
func (s *Service) Reap(ctx context.Context) {
	t := time.NewTicker(s.opt.ReaperInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := s.ReapOnce(ctx)
			if err != nil {
				s.log.Warn("reaper", "error", err)
			} else if n > 0 {
				s.log.Info("reaper finalized stale invocations", "count", n)
			}
		}
	}
}

// ReapOnce does one reaper pass and returns how many records it finalized.
func (s *Service) ReapOnce(ctx context.Context) (int, error) {
	var stale []*store.Invocation
	for _, st := range []store.Status{store.StatusPending, store.StatusRunning} {
		recs, err := s.store.ScanStale(st, time.Now().Add(-s.opt.StaleAfter), 1000)
		if err != nil {
			return 0, fmt.Errorf("scan %s invocations: %w", st, err)
		}
		stale = append(stale, recs...)
	}
	n := 0
	for _, rec := range stale {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		out, err := s.result(ctx, rec.Tenant, rec.ID)
		if err != nil { // messaging cannot say now: ask again next tick, never mislabel
			telemetry.ReaperAction(telemetry.ReapSkipped)
			s.logFor(rec).Warn("reaper: skipping", "error", err)
			continue
		}
		telemetry.ReaperAction(reapAction(out))
		if out == nil {
			out = &invocation.Outcome{InvocationID: rec.ID, Status: invocation.StatusTimeout,
				Error: &invocation.ErrorInfo{Kind: envelope.KindTimeout, Message: "invocation did not finish within " + s.opt.StaleAfter.String()}}
		}
		if _, err := s.finalize(ctx, rec, out); err != nil {
			s.logFor(rec).Warn("reap", "error", err)
			continue
		}
		n++
	}
	return n, nil
}
