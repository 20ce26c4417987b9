// Package control is the control role of the host: it records an invocation, enqueues
// it, follows its events for the caller (with idle and total timeouts), finalizes the
// record, and reaps records whose end was missed.
package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/host/events"
	"github.com/sous-run/sous/host/invocation"
	"github.com/sous-run/sous/host/worker"
	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

// Records is the part of the host store the control role needs.
type Records interface {
	CreateInvocation(ctx context.Context, r *invocation.Record) error
	GetInvocation(ctx context.Context, tenant, id string) (*invocation.Record, error)
	// UpdateInvocation reads, changes and writes a record atomically.
	UpdateInvocation(ctx context.Context, tenant, id string, fn func(*invocation.Record) error) (*invocation.Record, error)
	// StaleInvocations lists records in one of statuses created before the given time.
	StaleInvocations(ctx context.Context, before time.Time, statuses ...string) ([]*invocation.Record, error)
	// Idempotent returns the invocation id stored for (tenant, function, key) since `since`.
	Idempotent(ctx context.Context, tenant, function, key string, since time.Time) (string, bool, error)
	PutIdempotent(ctx context.Context, tenant, function, key, id string) error
}

// Options are the control role's timeouts and limits.
type Options struct {
	IdleTimeout    time.Duration // no event for this long → timeout (default 90s)
	TotalTimeout   time.Duration // whole invocation (default 5m)
	ReaperInterval time.Duration // default 1m
	StaleAfter     time.Duration // records pending/running longer are reaped (default 10m)
	IdempotencyTTL time.Duration // default 24h
	MaxAttempts    int           // messaging max attempts (default 3)
	Inline         bool          // no events driver: sync and stream run in this process
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
	def(&o.IdempotencyTTL, 24*time.Hour)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
}

// Service is the control role.
type Service struct {
	opt     Options
	records Records
	msg     messagingpb.MessagingClient
	events  events.Log     // nil: inline mode
	runner  *worker.Runner // for inline runs; nil when this process has no executors
	log     hclog.Logger
}

// New returns the control role over a store, a messaging client and an event log
// (nil for inline mode, where runner must be set).
func New(opt Options, records Records, msg messagingpb.MessagingClient, log events.Log, runner *worker.Runner, logger hclog.Logger) *Service {
	opt.defaults()
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Service{opt: opt, records: records, msg: msg, events: log, runner: runner, log: logger.Named("control")}
}

// ErrNotFound is returned for an unknown invocation.
var ErrNotFound = errors.New("invocation not found")

// Request is one invocation to start.
type Request struct {
	Task           invocation.Task // everything but the invocation id and tenant-independent timing
	Async          bool
	IdempotencyKey string
}

// Submit records the invocation (pending) and, unless it runs inline, enqueues it.
// With an Idempotency-Key seen in the last 24 h it returns the earlier record and
// existing=true.
func (s *Service) Submit(ctx context.Context, req Request) (rec *invocation.Record, existing bool, err error) {
	t := req.Task
	if req.IdempotencyKey != "" {
		id, ok, err := s.records.Idempotent(ctx, t.Tenant, t.Function, req.IdempotencyKey, time.Now().Add(-s.opt.IdempotencyTTL))
		if err != nil {
			return nil, false, fmt.Errorf("idempotency lookup: %w", err)
		}
		if ok {
			rec, err := s.Get(ctx, t.Tenant, id)
			return rec, err == nil, err
		}
	}
	now := time.Now()
	if t.InvocationID == "" {
		t.InvocationID = NewID()
	}
	t.EnqueuedAtMS = now.UnixMilli()
	rec = &invocation.Record{
		ID: t.InvocationID, Tenant: t.Tenant, Function: t.Function, Version: t.Version, Digest: t.Digest,
		Runtime: t.Runtime, Env: t.Env, Status: invocation.StatusPending, Async: req.Async,
		IdempotencyKey: req.IdempotencyKey, CreatedAtMS: now.UnixMilli(),
	}
	if err := s.records.CreateInvocation(ctx, rec); err != nil {
		return nil, false, fmt.Errorf("record invocation %s: %w", t.InvocationID, err)
	}
	if req.IdempotencyKey != "" {
		if err := s.records.PutIdempotent(ctx, t.Tenant, t.Function, req.IdempotencyKey, t.InvocationID); err != nil {
			return nil, false, fmt.Errorf("record idempotency key: %w", err)
		}
	}
	if s.Inline() && !req.Async {
		return rec, false, nil // the caller runs it with RunInline
	}
	if err := s.enqueue(ctx, &t); err != nil {
		_, _ = s.finalize(context.WithoutCancel(ctx), t.Tenant, t.InvocationID, &invocation.Outcome{
			InvocationID: t.InvocationID, Status: invocation.StatusFailed,
			Error: &invocation.ErrorInfo{Kind: "infra", Message: err.Error()}, FinishedAtMS: time.Now().UnixMilli()})
		return nil, false, err
	}
	return rec, false, nil
}

func (s *Service) enqueue(ctx context.Context, t *invocation.Task) error {
	payload, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode task %s: %w", t.InvocationID, err)
	}
	_, err = s.msg.Enqueue(ctx, &messagingpb.EnqueueRequest{Task: &messagingpb.Task{
		Id: t.InvocationID, Tenant: t.Tenant, Command: invocation.Command(t.Runtime), Payload: payload,
		IdempotencyKey: t.InvocationID, MaxAttempts: int32(s.opt.MaxAttempts),
	}})
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", t.InvocationID, err)
	}
	return nil
}

// Inline reports whether sync and stream invocations run in this process.
func (s *Service) Inline() bool { return s.events == nil }

// Get returns an invocation record, finalizing it from messaging's result when the
// record is still open but the run has ended.
func (s *Service) Get(ctx context.Context, tenant, id string) (*invocation.Record, error) {
	rec, err := s.records.GetInvocation(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if rec.Final() {
		return rec, nil
	}
	if out := s.resultOf(ctx, tenant, id); out != nil {
		return s.finalize(ctx, tenant, id, out)
	}
	return rec, nil
}

// resultOf asks messaging for a finished task's outcome; nil when not finished.
func (s *Service) resultOf(ctx context.Context, tenant, id string) *invocation.Outcome {
	r, err := s.msg.GetResult(ctx, &messagingpb.GetResultRequest{Tenant: tenant, Id: id})
	if err != nil {
		return nil
	}
	switch r.Status {
	case "completed":
		var o invocation.Outcome
		if json.Unmarshal(r.ResultJson, &o) == nil && o.Status != "" {
			if o.FinishedAtMS == 0 {
				o.FinishedAtMS = r.CompletedAtMs
			}
			return &o
		}
	case "failed", "dead":
		return &invocation.Outcome{InvocationID: id, Status: invocation.StatusFailed, Attempt: int(r.Attempts),
			Error:        &invocation.ErrorInfo{Kind: "infra", Message: fmt.Sprintf("run lost after %d attempts: %s", r.Attempts, r.Error)},
			FinishedAtMS: time.Now().UnixMilli()}
	}
	return nil
}

// finalize writes an outcome to a record that is not final yet.
func (s *Service) finalize(ctx context.Context, tenant, id string, out *invocation.Outcome) (*invocation.Record, error) {
	if out.FinishedAtMS == 0 {
		out.FinishedAtMS = time.Now().UnixMilli()
	}
	return s.records.UpdateInvocation(ctx, tenant, id, func(r *invocation.Record) error {
		if !r.Final() {
			r.Apply(out)
		}
		return nil
	})
}

// markRunning records the start of an attempt.
func (s *Service) markRunning(ctx context.Context, tenant, id string, attempt int, worker string) {
	_, err := s.records.UpdateInvocation(ctx, tenant, id, func(r *invocation.Record) error {
		if r.Final() {
			return nil
		}
		r.Status = invocation.StatusRunning
		if attempt > r.Attempts {
			r.Attempts = attempt
		}
		r.Worker = worker
		if r.StartedAtMS == 0 {
			r.StartedAtMS = time.Now().UnixMilli()
		}
		return nil
	})
	if err != nil {
		s.log.Warn("mark running", "invocation", id, "error", err)
	}
}
