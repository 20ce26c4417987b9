// Package control is the control role of the host: it records an invocation, enqueues
// it, follows its events for the caller (with idle and total timeouts), finalizes the
// record, and reaps records whose end was missed.
package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/host/events"
	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/internal/host/telemetry"
	"github.com/sous-run/sous/internal/host/worker"
	"github.com/sous-run/sous/sdk"
)

// Options are the control role's timeouts and limits.
type Options struct {
	IdleTimeout    time.Duration // no event for this long → timeout (default 90s)
	TotalTimeout   time.Duration // whole invocation (default 5m)
	ReaperInterval time.Duration // default 1m
	StaleAfter     time.Duration // records pending/running longer are reaped (default 10m)
	// LostAfter: a record pending/running this long whose task messaging does not know
	// is finalized as infra (the queue lost it); checked every LostAfter/3 (default 30s).
	LostAfter   time.Duration
	MaxAttempts int // messaging max attempts (default 3)
	// FallbackInline (events.fallback: inline) runs sync and stream invocations in this
	// process while EventsHealth reports the events driver down.
	FallbackInline bool
	EventsHealth   func(ctx context.Context) error
	// OnFinal is called with the record each time this process makes one final (the
	// completion webhooks' hook); it must not block.
	OnFinal func(rec *store.Invocation)
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.IdleTimeout, 90*time.Second)
	def(&o.TotalTimeout, 5*time.Minute)
	def(&o.ReaperInterval, time.Minute)
	def(&o.StaleAfter, 10*time.Minute)
	def(&o.LostAfter, 30*time.Second)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
}

// Service is the control role.
type Service struct {
	opt    Options
	store  *store.Store
	msg    sdk.Messaging
	events events.Log      // nil: inline mode
	runner *worker.Runner  // for inline runs; nil when this process has no executors
	health healthCache     // events driver health, for events.fallback: inline
	bg     context.Context // background work (tracking, inline runs); ended by Close
	stopBg context.CancelFunc
	bgMu   sync.Mutex // guards closed and wg.Add against Close
	closed bool
	wg     sync.WaitGroup
	log    hclog.Logger
	local  sync.Map // invocation id → struct{}: being queued or run inline by this process
	// unsynced: invocation id → struct{} for records started without a sync of their own
	// (StartInvocationLater) whose final write has not landed (see Settle).
	unsynced sync.Map
	// startRecord is store.StartInvocation (a seam for tests of the failure orderings).
	startRecord func(*store.Invocation) (*store.Invocation, bool, func() error, error)
	// syncRecords is store.SyncRecords (a seam for tests of when Settle syncs).
	syncRecords func(what string) error
}

// New returns the control role over a store, messaging and an event log (nil for
// inline mode, where runner must be set).
func New(opt Options, st *store.Store, msg sdk.Messaging, log events.Log, runner *worker.Runner, logger hclog.Logger) *Service {
	opt.defaults()
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	bg, stop := context.WithCancel(context.Background())
	return &Service{opt: opt, store: st, bg: bg, stopBg: stop, msg: msg, events: log, runner: runner, log: logger.Named("control"),
		startRecord: st.StartInvocation, syncRecords: st.SyncRecords}
}

// Close ends the background work (trackers, inline runs) and waits for it, so the
// store can be closed after.
func (s *Service) Close() {
	s.bgMu.Lock()
	s.closed = true
	s.bgMu.Unlock()
	s.stopBg()
	s.wg.Wait()
}

// goBackground runs fn on the service's background context, counted for Close. After
// Close it runs nothing and returns false (the store may be closed).
func (s *Service) goBackground(fn func(ctx context.Context)) bool {
	s.bgMu.Lock()
	defer s.bgMu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn(s.bg)
	}()
	return true
}

// Request is one invocation to start.
type Request struct {
	Task           invocation.Task // InvocationID is filled in when empty
	Async          bool
	IdempotencyKey string
	Trigger        string     // what started it ("schedule:<id>"); empty for a call
	TickAt         *time.Time // the schedule tick it runs for
	CallbackURL    string     // completion webhook (already checked against webhooks.allow_cidrs)
	// SyncLater: the caller hears of the invocation only with its outcome (a sync call
	// answered in one JSON body), or after Settle (an SSE stream's headers). Without an
	// Idempotency-Key, its record goes to disk with the final write's sync instead of
	// one of its own (StartInvocationLater), unless an answer settles it first.
	SyncLater bool
}

// Submitted is what Submit did with a request.
type Submitted struct {
	Record   *store.Invocation
	Existing bool // an earlier invocation with the same Idempotency-Key; nothing new was queued
	Inline   bool // not queued: the caller runs it in this process with RunInline
}

// Submit records the invocation (pending) and, unless it runs inline, enqueues it; on
// one node the enqueue overlaps the record's durable write, and Submit returns once both
// are durable (a SyncLater record without an Idempotency-Key goes to disk with its
// final write instead).
// With an Idempotency-Key seen in the last 24 h it returns the earlier record and
// enqueues nothing.
func (s *Service) Submit(ctx context.Context, req Request) (*Submitted, error) {
	rec, existing, inline, err := s.submit(ctx, req)
	if err != nil {
		return nil, err
	}
	return &Submitted{Record: rec, Existing: existing, Inline: inline}, nil
}

func (s *Service) submit(ctx context.Context, req Request) (rec *store.Invocation, existing, inline bool, err error) {
	t := req.Task
	if t.InvocationID == "" {
		t.InvocationID = store.NewInvocationID()
	}
	t.EnqueuedAtMS = time.Now().UnixMilli()
	// Until it is queued, messaging does not know the task: the lost-task check skips it.
	s.local.Store(t.InvocationID, struct{}{})
	defer func() {
		if !inline {
			s.local.Delete(t.InvocationID)
		}
	}()
	ctx, span := telemetry.StartSubmit(ctx, &t)
	defer span.End()
	inline = !req.Async && s.inlineNow(ctx)
	start, later := s.startRecord, req.SyncLater && !req.Async && req.IdempotencyKey == "" && req.CallbackURL == ""
	if later {
		start = s.store.StartInvocationLater
	}
	rec, created, wait, err := start(&store.Invocation{
		ID: t.InvocationID, Tenant: t.Tenant, Function: t.Function, Version: t.Version, Digest: t.Digest,
		Env: t.Env, Status: invocation.StatusPending, IdempotencyKey: req.IdempotencyKey,
		Trigger: req.Trigger, TickAt: req.TickAt, Callback: callbackOf(req.CallbackURL),
	})
	if err != nil {
		return nil, false, false, fmt.Errorf("record invocation %s: %w", t.InvocationID, err)
	}
	if later && created {
		id := rec.ID
		s.unsynced.Store(id, struct{}{})
		defer func() {
			if err != nil { // the error names the id
				s.Settle(id)
			}
		}()
	}
	if x, ok := s.events.(events.Expecter); ok && created && !inline && !req.Async {
		x.Expect(t.Tenant, t.InvocationID) // the caller follows it next
	}
	// The enqueue outlives the caller: a client leaving mid-call must not leave a queued
	// task whose record says failed.
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if created && !inline && !s.store.Replicated() {
		// The record is readable now: queue the task while it goes to disk.
		if err := s.queueBesideRecord(ectx, req, rec, &t, wait); err != nil {
			return nil, false, false, err
		}
		return rec, false, false, nil
	}
	if err := wait(); err != nil {
		return nil, false, false, fmt.Errorf("record invocation %s: %w", t.InvocationID, err)
	}
	if !created {
		return rec, true, false, nil
	}
	telemetry.InvocationStarted(t.Runtime)
	if inline {
		return rec, false, true, nil // the caller runs it with RunInline
	}
	return rec, false, false, s.queue(ectx, req, rec, &t)
}

// queue enqueues the task of a durable record. When it surely was not queued the record
// is finalized as failed (infra) and the idempotency key freed; when it may have been,
// the record stays open and is tracked.
func (s *Service) queue(ctx context.Context, req Request, rec *store.Invocation, t *invocation.Task) error {
	if err := s.enqueue(ctx, t); err != nil {
		return s.notQueued(ctx, req, rec, err)
	}
	if req.Async {
		s.Track(rec)
	}
	return nil
}

// notQueued handles a failed enqueue of rec and returns the error for the caller.
func (s *Service) notQueued(ctx context.Context, req Request, rec *store.Invocation, err error) error {
	if maybeQueued(err) { // keep the record open and the key: a retry must not run it twice
		s.Track(rec)
		return fmt.Errorf("%w; the task may still run: GET /v1/invocations/%s has its outcome", err, rec.ID)
	}
	_, _ = s.finalize(ctx, rec, &invocation.Outcome{
		InvocationID: rec.ID, Status: invocation.StatusFailed,
		Error: &invocation.ErrorInfo{Kind: "infra", Message: err.Error()}})
	if req.IdempotencyKey != "" { // a retry with the same key must run, not replay this failure
		_ = s.store.DeleteIdempotent(rec.Tenant, rec.Function, req.IdempotencyKey)
	}
	return err
}

// maybeQueued reports whether a failed enqueue may still have queued the task (the
// call timed out or broke without an answer).
func maybeQueued(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// enqueue queues the task. While the messaging plugin restarts (Unavailable) it tries
// again until ctx ends: the task id is the idempotency key, so a call that did reach
// the plugin is not queued twice.
func (s *Service) enqueue(ctx context.Context, t *invocation.Task) error {
	payload, err := t.Payload()
	if err != nil {
		return fmt.Errorf("encode task %s: %w", t.InvocationID, err)
	}
	task := sdk.Task{
		ID: t.InvocationID, Tenant: t.Tenant, Command: invocation.FunctionCommand(t.Tenant, t.Function), Payload: payload,
		IdempotencyKey: t.InvocationID, MaxAttempts: s.opt.MaxAttempts,
	}
	back := 50 * time.Millisecond
	for try := 0; ; try++ {
		resp, err := s.msg.Enqueue(ctx, task)
		if err == nil {
			// A duplicate on the first try was queued by another control process (a
			// schedule tick), which delivers the callback. On a retry it may be our own
			// earlier try: keep the callback here (at least once).
			if resp.Duplicate && try == 0 {
				s.callbackElsewhere(t.Tenant, t.InvocationID)
			}
			return nil
		}
		if !errors.Is(err, sdk.ErrUnavailable) {
			return fmt.Errorf("enqueue %s: %w", t.InvocationID, err)
		}
		if ctx.Err() != nil {
			return gaveUp(ctx, t.InvocationID, err)
		}
		s.log.Debug("messaging unavailable; enqueueing again", "invocation", t.InvocationID, "error", err)
		select {
		case <-time.After(back):
		case <-ctx.Done():
			return gaveUp(ctx, t.InvocationID, err)
		}
		back = min(2*back, time.Second)
	}
}

// gaveUp is the error of an enqueue that ran out of time while messaging was
// unavailable (err): it wraps ctx's error too, so maybeQueued holds. A try that broke
// after it was sent may have queued the task, so the record stays open for the
// lost-task check instead of being closed as never queued.
func gaveUp(ctx context.Context, id string, err error) error {
	return fmt.Errorf("enqueue %s: gave up (%w) while messaging was unavailable: %w", id, ctx.Err(), err)
}

// Get returns an invocation record, finalizing it from messaging's result when the
// record is still open but the run has ended.
func (s *Service) Get(ctx context.Context, tenant, id string) (*store.Invocation, error) {
	rec, err := s.store.GetInvocation(tenant, id)
	if err != nil {
		return nil, err
	}
	if rec.Status.Final() {
		return rec, nil
	}
	s.Settle(id) // the answer names it: a record left to its final write goes to disk now
	if out := s.resultOf(ctx, tenant, id); out != nil {
		got, err := s.finalize(ctx, rec, out)
		if errors.Is(err, store.ErrUnavailable) { // a follower (cluster): the leader records it
			return rec, nil
		}
		return got, err
	}
	return rec, nil
}

// resultOf asks messaging for a finished task's outcome; nil when not finished.
func (s *Service) resultOf(ctx context.Context, tenant, id string) *invocation.Outcome {
	out, _ := s.result(ctx, tenant, id)
	return out
}

// result is resultOf with messaging's error: NotFound (the task is unknown) is no
// error; anything else means the answer is not known.
func (s *Service) result(ctx context.Context, tenant, id string) (*invocation.Outcome, error) {
	out, _, err := s.lookup(ctx, tenant, id)
	return out, err
}

// lookup asks messaging about a task: known is false when messaging answers NotFound;
// out is the outcome of a finished task (nil while it is queued or running).
func (s *Service) lookup(ctx context.Context, tenant, id string) (out *invocation.Outcome, known bool, err error) {
	r, err := s.msg.Result(ctx, tenant, id)
	if errors.Is(err, sdk.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("result of %s: %w", id, err)
	}
	switch r.Status {
	case sdk.TaskCompleted:
		var o invocation.Outcome
		if json.Unmarshal(r.Result, &o) == nil && o.Status != "" {
			if o.FinishedAtMS == 0 && !r.CompletedAt.IsZero() {
				o.FinishedAtMS = r.CompletedAt.UnixMilli()
			}
			return &o, true, nil
		}
	case sdk.TaskFailed, sdk.TaskDead:
		return &invocation.Outcome{InvocationID: id, Status: invocation.StatusFailed, Attempt: r.Attempts,
			Error:        &invocation.ErrorInfo{Kind: "infra", Message: fmt.Sprintf("run lost after %d attempts: %s", r.Attempts, r.Error)},
			FinishedAtMS: time.Now().UnixMilli()}, true, nil
	}
	return nil, true, nil
}

// Settle makes a record started without a sync of its own (SyncLater) durable when an
// answer other than its final write is about to name it (an SSE stream's headers, a
// timeout, a lost event stream, a failed enqueue, a GET): an id a caller was given must
// be on disk. After the final write it does nothing.
func (s *Service) Settle(id string) {
	if _, ok := s.unsynced.LoadAndDelete(id); ok {
		if err := s.syncRecords("invocation " + id); err != nil {
			s.log.Warn("sync the record before answering", "invocation", id, "error", err)
		}
	}
}

// finalize writes an outcome to a record that is not final yet and returns the record
// as stored (the first final outcome wins; later ones are ignored).
func (s *Service) finalize(ctx context.Context, rec *store.Invocation, out *invocation.Outcome) (*store.Invocation, error) {
	return s.finalizeStarted(ctx, rec, out, 0)
}

// finalizeStarted is finalize for a run whose start (unix milliseconds, 0 unknown) may
// not be recorded yet: a record without started_at gets it.
func (s *Service) finalizeStarted(_ context.Context, rec *store.Invocation, out *invocation.Outcome, startedMS int64) (*store.Invocation, error) {
	finished := time.Now().UTC()
	if out.FinishedAtMS > 0 {
		finished = time.UnixMilli(out.FinishedAtMS).UTC()
	}
	got, err := s.store.UpdateInvocation(rec.Tenant, rec.ID, func(r *store.Invocation) error {
		r.Status, r.Output, r.DurationMS, r.FinishedAt = out.Status, out.Output, out.DurationMS, &finished
		if out.Error != nil {
			e := *out.Error
			r.Error = &e
		}
		if out.Attempt > r.Attempts {
			r.Attempts = out.Attempt
		}
		setStarted(r, startedMS)
		return nil
	})
	if err == nil || errors.Is(err, store.ErrConflict) { // final, and on disk with it
		s.unsynced.Delete(rec.ID)
	}
	if errors.Is(err, store.ErrConflict) {
		return s.store.GetInvocation(rec.Tenant, rec.ID)
	}
	if err == nil {
		s.observeFinal(got)
		if s.opt.OnFinal != nil {
			s.opt.OnFinal(got)
		}
	}
	return got, err
}

// markRunning records the start of an attempt (at startedMS, unix milliseconds, when
// known).
func (s *Service) markRunning(rec *store.Invocation, attempt int, startedMS int64) {
	_, err := s.store.UpdateInvocation(rec.Tenant, rec.ID, func(r *store.Invocation) error {
		r.Status = invocation.StatusRunning
		r.Attempts = max(r.Attempts, attempt)
		setStarted(r, startedMS)
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		s.logFor(rec).Warn("mark running", "error", err)
	}
}

// setStarted gives a record without started_at the start time startedMS (unix
// milliseconds; 0 unknown: the store stamps entering running itself).
func setStarted(r *store.Invocation, startedMS int64) {
	if r.StartedAt == nil && startedMS > 0 {
		started := time.UnixMilli(startedMS).UTC()
		r.StartedAt = &started
	}
}
