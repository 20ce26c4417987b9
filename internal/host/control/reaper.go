package control

import (
	"context"
	"fmt"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/internal/host/telemetry"
	"github.com/sous-run/sous/sdk/envelope"
)

// Reap runs the reaper until ctx ends. Every lost_after/3 it finalizes records whose
// task messaging no longer knows (ReapLost); every reaper_interval it marks records
// stuck in pending or running for stale_after as timeout, after asking messaging for
// a result so a finished run is never mislabelled (ReapOnce).
func (s *Service) Reap(ctx context.Context) {
	lost := time.NewTicker(max(s.opt.LostAfter/3, 100*time.Millisecond))
	defer lost.Stop()
	stale := time.NewTicker(s.opt.ReaperInterval)
	defer stale.Stop()
	for {
		var n int
		var err error
		select {
		case <-ctx.Done():
			return
		case <-lost.C:
			n, err = s.ReapLost(ctx)
		case <-stale.C:
			n, err = s.ReapOnce(ctx)
		}
		if err != nil {
			s.log.Warn("reaper", "error", err)
		} else if n > 0 {
			s.log.Info("reaper finalized invocations", "count", n)
		}
	}
}

// LostMessage is the error of an invocation whose task the queue no longer knows.
const LostMessage = "the queue lost this invocation's task (messaging has no record of it: the broker was wiped, " +
	"or Redis restarted without persistence); it did not run to completion — invoke it again"

// ReapLost finalizes, as infra, records pending or running for lost_after whose task
// messaging answers NotFound for. Records this process is still queueing or running
// inline are skipped (messaging cannot know them yet), and so is any record messaging
// cannot answer for now.
func (s *Service) ReapLost(ctx context.Context) (int, error) {
	open, err := s.scanOpen(time.Now().Add(-s.opt.LostAfter))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, rec := range open {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		if _, busy := s.local.Load(rec.ID); busy {
			continue
		}
		out, known, err := s.lookup(ctx, rec.Tenant, rec.ID)
		if err != nil || known && out == nil {
			continue
		}
		if !known {
			out = invocation.Fail(rec.ID, envelope.KindInfra, LostMessage)
		}
		if _, err := s.finalize(ctx, rec, out); err != nil {
			s.log.Warn("reap lost task", "invocation", rec.ID, "error", err)
			continue
		}
		n++
	}
	return n, nil
}

// ReapOnce does one pass over stale records and returns how many it finalized.
func (s *Service) ReapOnce(ctx context.Context) (int, error) {
	stale, err := s.scanOpen(time.Now().Add(-s.opt.StaleAfter))
	if err != nil {
		return 0, err
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
			out = invocation.Fail(rec.ID, envelope.KindTimeout, "invocation did not finish within "+s.opt.StaleAfter.String())
		}
		if _, err := s.finalize(ctx, rec, out); err != nil {
			s.logFor(rec).Warn("reap", "error", err)
			continue
		}
		n++
	}
	return n, nil
}

// scanOpen returns records pending or running since before t.
func (s *Service) scanOpen(t time.Time) ([]*store.Invocation, error) {
	var open []*store.Invocation
	for _, st := range []invocation.Status{invocation.StatusPending, invocation.StatusRunning} {
		recs, err := s.store.ScanStale(st, t, 1000)
		if err != nil {
			return nil, fmt.Errorf("scan %s invocations: %w", st, err)
		}
		open = append(open, recs...)
	}
	return open, nil
}
