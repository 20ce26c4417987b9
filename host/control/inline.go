package control

import (
	"context"
	"errors"
	"time"

	"github.com/sous-run/sous/host/invocation"
	"github.com/sous-run/sous/host/store"
	"github.com/sous-run/sous/sdk/envelope"
)

// RunInline runs a sync or stream invocation in this process (no events driver),
// passing the same event sequence a queued run produces to h. The run goes on and the
// record is finalized even if ctx ends (the client left).
func (s *Service) RunInline(ctx context.Context, rec *store.Invocation, t *invocation.Task, h Handler) error {
	if s.runner == nil {
		return errors.New("inline run: this host has no executors; configure an events driver or run with role all")
	}
	type item struct {
		e   *envelope.Envelope
		raw []byte
	}
	items := make(chan item, 64)
	emit := func(e *envelope.Envelope, raw []byte) error {
		if raw == nil {
			raw, _ = envelope.Marshal(e)
		}
		items <- item{e, raw}
		return nil
	}
	s.goBackground(func(bgctx context.Context) {
		defer close(items)
		bg, cancel := context.WithTimeout(bgctx, s.opt.TotalTimeout)
		defer cancel()
		s.markRunning(rec, 1)
		_ = emit(&envelope.Envelope{Type: envelope.TypeStatus, Status: invocation.StatusRunning, Attempt: 1, Worker: "inline"}, nil)
		out, err := s.runner.Run(bg, t, 1, emit)
		if err != nil {
			out = &invocation.Outcome{InvocationID: rec.ID, Status: invocation.StatusFailed,
				Error: &invocation.ErrorInfo{Kind: envelope.KindInfra, Message: err.Error()}}
			_ = emit(out.Terminal(), nil)
		}
		out.Attempt, out.Worker, out.FinishedAtMS = 1, "inline", time.Now().UnixMilli()
		if _, ferr := s.finalize(bg, rec, out); ferr != nil {
			s.log.Warn("finalize inline run", "invocation", rec.ID, "error", ferr)
		}
		_ = emit(envelope.Done(), nil)
	})
	var herr error
	for it := range items {
		if herr != nil || ctx.Err() != nil {
			continue // the caller left: drain so the run finishes and is recorded
		}
		herr = h("", it.e, it.raw)
	}
	if herr != nil {
		return herr
	}
	return ctx.Err()
}
