package control

import (
	"context"
	"errors"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/sdk/envelope"
)

// RunInline runs a sync or stream invocation in this process (no events driver),
// passing the same event sequence a queued run produces to h. The run goes on and the
// record is finalized even if ctx ends (the client left).
func (s *Service) RunInline(ctx context.Context, rec *store.Invocation, t *invocation.Task, h Handler) error {
	defer s.Settle(rec.ID)
	if s.runner == nil {
		return errors.New("inline run: this host has no executors; configure an events driver or run with role all")
	}
	type item struct {
		e   *envelope.Envelope
		raw []byte
	}
	items := make(chan item, 64)
	// put hands an envelope to the caller. The run's own envelopes give up when the run
	// is over (a stalled client must not hold the run past its timeout); the terminal
	// event and done always go through (the caller's writes are bounded, or it drains).
	put := func(ctx context.Context, e *envelope.Envelope, raw []byte) error {
		if raw == nil {
			raw, _ = envelope.Marshal(e)
		}
		select {
		case items <- item{e, raw}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	started := s.goBackground(func(bgctx context.Context) {
		defer close(items)
		defer s.local.Delete(rec.ID)
		bg, cancel := context.WithTimeout(bgctx, s.opt.TotalTimeout)
		defer cancel()
		final := context.WithoutCancel(bg)
		s.markRunning(rec, 1, 0)
		_ = put(bg, &envelope.Envelope{Type: envelope.TypeStatus, Status: string(invocation.StatusRunning), Attempt: 1, Worker: "inline", TS: time.Now().UnixMilli()}, nil)
		out, err := s.runner.Run(bg, t, 1, func(e *envelope.Envelope, raw []byte) error { return put(bg, e, raw) })
		switch {
		case err != nil && errors.Is(bg.Err(), context.DeadlineExceeded):
			out = invocation.Fail(rec.ID, envelope.KindTimeout, "invocation timed out: ran past "+s.opt.TotalTimeout.String())
		case err != nil:
			out = invocation.Fail(rec.ID, envelope.KindInfra, err.Error())
		}
		out.Attempt, out.Worker, out.FinishedAtMS = 1, "inline", time.Now().UnixMilli()
		// The record is final before the caller hears of it (as a worker acks before done).
		if _, ferr := s.finalize(final, rec, out); ferr != nil {
			s.logFor(rec).Warn("finalize inline run", "error", ferr)
		}
		if err != nil {
			_ = put(final, out.Terminal(), nil)
		}
		_ = put(final, envelope.Done(), nil)
	})
	if !started {
		s.local.Delete(rec.ID)
		return errors.New("inline run: the host is shutting down")
	}
	var herr error
	flush := flushOf(ctx)
	for it := range items {
		if herr != nil || ctx.Err() != nil {
			continue // the caller left: drain so the run finishes and is recorded
		}
		if herr = h("", it.e, it.raw); herr == nil && len(items) == 0 {
			flush()
		}
	}
	if herr != nil {
		return herr
	}
	return ctx.Err()
}
