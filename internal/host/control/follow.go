package control

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sous-run/sous/internal/host/events"
	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/internal/host/telemetry"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// flushKey carries the caller's flush in a context (WithFlush).
type flushKey struct{}

// WithFlush returns ctx carrying flush: Follow and RunInline call it each time they have
// passed every event ready so far to the handler, before they wait for more, so a
// handler may buffer its writes and leave flushing to them.
func WithFlush(ctx context.Context, flush func()) context.Context {
	return context.WithValue(ctx, flushKey{}, flush)
}

func flushOf(ctx context.Context) func() {
	if f, ok := ctx.Value(flushKey{}).(func()); ok {
		return f
	}
	return func() {}
}

// Handler receives each event of an invocation for its caller. id is the event id ("" for
// events the control role made up, such as a timeout); raw is the envelope JSON.
type Handler func(id string, e *envelope.Envelope, raw []byte) error

// readItem is what the reader passes the follower: an event, the read's error, or a
// claimed run's last batch before its events arrive with their ids (events.WithLastHint).
type readItem struct {
	ev   events.Event
	err  error
	last [][]byte
}

// runState is what a follower knows of the run from its events: the last attempt, when
// it started (its status event's time; 0 unknown) and its terminal event.
type runState struct {
	attempt   int
	startedMS int64
	terminal  *envelope.Envelope
}

// see takes e into account: started reports a new attempt, ended its terminal event.
func (r *runState) see(e *envelope.Envelope) (started, ended bool) {
	switch {
	case e.Type == envelope.TypeStatus && e.Attempt > r.attempt:
		r.attempt, r.terminal, r.startedMS = e.Attempt, nil, e.TS
		return true, false
	case e.Terminal():
		r.terminal = e
		return false, true
	}
	return false, false
}

// Follow relays an invocation's events after afterID to h until done, keeping the
// record up to date (running on status, final on done). After idle_timeout without an
// event or total_timeout since creation it sends a timeout error and done itself. When
// ctx ends first (the client left) the record is still finalized in the background.
func (s *Service) Follow(ctx context.Context, rec *store.Invocation, afterID string, h Handler) error {
	ctx, span := telemetry.StartFollow(ctx, rec.ID)
	defer span.End()
	defer s.Settle(rec.ID)
	return s.follow(ctx, rec, afterID, h, false)
}

// follow is Follow; background (no caller, only the record to finalize) ignores the
// idle timeout: a caller gives up after idle_timeout, but the run may still finish
// within total_timeout and its record must say so.
func (s *Service) follow(ctx context.Context, rec *store.Invocation, afterID string, h Handler, background bool) error {
	if h == nil {
		h = func(string, *envelope.Envelope, []byte) error { return nil }
	}
	if s.events == nil {
		return s.awaitRecord(ctx, rec, h)
	}
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	items := make(chan readItem, 16) // bounded: a slow caller holds at most 16 events here
	go s.read(rctx, rec, afterID, items)

	total := time.Until(rec.CreatedAt.Add(s.opt.TotalTimeout))
	totalT := time.NewTimer(max(total, time.Millisecond))
	defer totalT.Stop()
	idle := time.NewTimer(s.opt.IdleTimeout)
	defer idle.Stop()
	idleC := idle.C
	if background {
		idleC = nil
	}
	var run runState
	lastID := afterID
	// early is the terminal event of the final record written from the run's last batch
	// before its events came with their ids (finishEarly); nil until then.
	var early *envelope.Envelope
	// mark is an attempt whose start is not recorded yet. It is recorded beside the
	// relay once no event waits (the loop must not wait for this write's fsync while the
	// run's own events are ready), and dropped when the attempt's terminal event comes
	// first: the final write records the attempt, and a run that ends that fast needs no
	// running record. A mark that lands after the final record is refused by the store.
	mark := 0
	markNow := func() {
		if a, ts := mark, run.startedMS; a > 0 {
			mark = 0
			s.goBackground(func(context.Context) { s.markRunning(rec, a, ts) })
		}
	}
	leave := func() { // the caller left: finalize in the background (a tracker needs none)
		markNow()
		if !background {
			s.goTrack(rec, lastID)
		}
	}
	flush := flushOf(ctx)
	for {
		if len(items) == 0 {
			markNow()
			flush() // every event ready so far is relayed: let the caller's writer send them
		}
		select {
		case <-ctx.Done():
			leave()
			return ctx.Err()
		case <-idleC:
			err := s.timeOut(ctx, rec, fmt.Sprintf("no event for %s", s.opt.IdleTimeout), h, false)
			leave()
			return err
		case <-totalT.C:
			return s.timeOut(ctx, rec, fmt.Sprintf("invocation ran past %s", s.opt.TotalTimeout), h, true)
		case it, ok := <-items:
			if !ok { // the reader only stops without done when ctx ended: the client left
				leave()
				return ctx.Err()
			}
			if it.err != nil {
				leave() // the record is still finalized (or left to the reaper)
				return fmt.Errorf("follow %s: %w", rec.ID, it.err)
			}
			if it.last != nil {
				if early == nil {
					if early = s.finishEarly(ctx, rec, run, it.last); early != nil {
						mark = 0 // the final write records the attempt
					}
				}
				continue
			}
			if !idle.Stop() {
				select {
				case <-idle.C:
				default:
				}
			}
			idle.Reset(s.opt.IdleTimeout)
			lastID = it.ev.ID
			e, err := envelope.Unmarshal(it.ev.Envelope)
			if err != nil {
				s.logFor(rec).Warn("skipping bad event", "id", it.ev.ID, "error", err)
				continue
			}
			switch started, ended := run.see(e); {
			case started && early == nil: // with early under way the final write records it
				mark = run.attempt
			case ended:
				mark = 0
			}
			if e.Type == envelope.TypeDone {
				mark = 0
				var final *envelope.Envelope
				if early != nil {
					final = early
				} else {
					final = s.finishFrom(context.WithoutCancel(ctx), rec, run.terminal, run.attempt, run.startedMS)
				}
				if run.terminal == nil { // the log lacks it: the caller gets the record's
					raw, _ := envelope.Marshal(final)
					if err := h("", final, raw); err != nil {
						leave()
						return err
					}
				}
			}
			if err := h(it.ev.ID, e, it.ev.Envelope); err != nil {
				leave()
				return err
			}
			if e.Type == envelope.TypeDone {
				return nil
			}
		}
	}
}

// read feeds items with the invocation's events after afterID until done. A read that
// ends without done, or breaks because the events plugin is unavailable, is opened
// again after the last event seen (the idle and total timeouts bound the wait); any
// other error is passed on once. items is closed when read returns.
func (s *Service) read(ctx context.Context, rec *store.Invocation, afterID string, items chan<- readItem) {
	defer close(items)
	ctx = events.WithLastHint(ctx, func(envs [][]byte) error {
		select {
		case items <- readItem{last: envs}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	back := 50 * time.Millisecond
	for ctx.Err() == nil {
		done := false
		err := s.events.Read(ctx, rec.Tenant, rec.ID, afterID, true, func(ev events.Event) error {
			afterID, done = ev.ID, invocation.IsDone(ev.Envelope)
			select {
			case items <- readItem{ev: ev}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if done || ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, sdk.ErrUnavailable) {
			select {
			case items <- readItem{err: err}:
			case <-ctx.Done():
			}
			return
		}
		s.logFor(rec).Debug("event read ended before done; reading again", "after", afterID, "error", err)
		select {
		case <-time.After(back):
		case <-ctx.Done():
		}
		back = min(2*back, 2*time.Second)
	}
}

// finishEarly writes the final record from a claimed run's last batch, given before
// its events (events.WithLastHint), on top of what the events relayed so far said
// (run): the write the batch's done will ask for, made while this host's worker has the
// shared event log append the batch. It returns the written record's terminal event,
// or nil when the batch holds no done. It writes in the follower's own goroutine: what
// the follower relays next is that batch, whose ids come after the log's round trip, so
// a goroutine and a channel of their own per invocation bought nothing.
func (s *Service) finishEarly(ctx context.Context, rec *store.Invocation, run runState, last [][]byte) *envelope.Envelope {
	for _, raw := range last {
		e, err := envelope.Unmarshal(raw)
		if err != nil {
			continue
		}
		run.see(e)
		if e.Type == envelope.TypeDone {
			return s.finishFrom(context.WithoutCancel(ctx), rec, run.terminal, run.attempt, run.startedMS)
		}
	}
	return nil
}

// finishFrom finalizes the record from the terminal envelope seen before done; without
// one it asks messaging. startedMS is when the last attempt started (its status event;
// 0 unknown). It returns the terminal event of the final record.
func (s *Service) finishFrom(ctx context.Context, rec *store.Invocation, terminal *envelope.Envelope, attempt int, startedMS int64) *envelope.Envelope {
	var out *invocation.Outcome
	if terminal != nil {
		out = invocation.FromTerminal(rec.ID, terminal)
		out.Attempt = attempt
	} else if out = s.resultOf(ctx, rec.Tenant, rec.ID); out == nil {
		out = invocation.Fail(rec.ID, envelope.KindInfra, "run ended without a result")
	}
	got, err := s.finalizeStarted(ctx, rec, out, startedMS)
	if err != nil {
		s.logFor(rec).Warn("finalize", "error", err)
		return out.Terminal()
	}
	return OutcomeOf(got).Terminal()
}

// timeOut ends a follow that waited too long: messaging's result wins if the run
// finished (and finalizes the record); otherwise the caller gets a timeout error, and
// the record is marked timeout only when final is set (total timeout). The caller
// gets the terminal event and done.
func (s *Service) timeOut(ctx context.Context, rec *store.Invocation, why string, h Handler, final bool) error {
	bg := context.WithoutCancel(ctx)
	out := s.resultOf(bg, rec.Tenant, rec.ID)
	known := out != nil
	if !known {
		out = invocation.Fail(rec.ID, envelope.KindTimeout, "invocation timed out: "+why)
	}
	if known || final {
		if _, err := s.finalize(bg, rec, out); err != nil {
			s.logFor(rec).Warn("finalize after timeout", "error", err)
		}
	}
	return out.Send(h)
}

// Track follows an invocation in the background until it ends, only to finalize its
// record (async invocations, and callers that left).
func (s *Service) Track(rec *store.Invocation) { s.goTrack(rec, "") }

func (s *Service) goTrack(rec *store.Invocation, afterID string) {
	s.goBackground(func(ctx context.Context) { s.track(ctx, rec, afterID) })
}

func (s *Service) track(ctx context.Context, rec *store.Invocation, afterID string) {
	if s.events == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.opt.TotalTimeout+time.Minute)
	defer cancel()
	if err := s.follow(ctx, rec, afterID, nil, true); err != nil && ctx.Err() == nil {
		s.logFor(rec).Warn("track invocation", "error", err)
	}
}

// CheckAfter reports whether afterID is an id of the invocation's log (nil when so, or
// when afterID is empty); an error wraps events.ErrBadEventID when it cannot be one.
// It reads at most one event, so a resumed stream can be refused before it opens.
func (s *Service) CheckAfter(ctx context.Context, rec *store.Invocation, afterID string) error {
	if s.events == nil || afterID == "" {
		return nil
	}
	err := s.events.Read(ctx, rec.Tenant, rec.ID, afterID, false, func(events.Event) error { return errStopRead })
	if errors.Is(err, errStopRead) {
		return nil
	}
	return err
}

var errStopRead = errors.New("stop read")

// Replay passes the events stored for an invocation after afterID to h without waiting
// for more (for records that are already final). In inline mode there is no log and
// nothing is replayed.
func (s *Service) Replay(ctx context.Context, rec *store.Invocation, afterID string, h Handler) error {
	if s.events == nil {
		return nil
	}
	return s.events.Read(ctx, rec.Tenant, rec.ID, afterID, false, func(ev events.Event) error {
		e, err := envelope.Unmarshal(ev.Envelope)
		if err != nil {
			return nil
		}
		return h(ev.ID, e, ev.Envelope)
	})
}
