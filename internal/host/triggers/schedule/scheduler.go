// Package schedule fires cron schedules: each tick of an enabled schedule becomes one
// async invocation with trigger "schedule:<id>" and the tick time on its record.
//
// Exactly once per tick: the invocation id of a tick is derived from (tenant,
// function, schedule, tick time), and so is its Idempotency-Key. Within one store the
// key makes a tick that fires twice (a restart between firing and recording the tick)
// return the first invocation; across control processes that share a messaging backend
// (split roles over Redis or codeQ) the same id reaches messaging twice and the
// backend's idempotent Enqueue keeps one task, so the function runs once per tick on
// every stack without a lock of our own.
package schedule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/host/control"
	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
)

// Catchup policies: what happens to ticks missed while no control process ran.
const (
	CatchupNone = "none" // missed ticks are dropped
	CatchupOne  = "one"  // the latest missed tick fires once (default)
)

// OnTime is how late a tick may fire and still count as on time rather than missed
// (catchup: none drops only ticks later than this).
const OnTime = 5 * time.Second

// maxIdle bounds the sleep between passes, so a clock jump is noticed.
const maxIdle = 30 * time.Second

// Submitter starts an invocation (the control service).
type Submitter interface {
	Submit(ctx context.Context, req control.Request) (*control.Submitted, error)
}

// Scheduler fires the schedules of one store.
type Scheduler struct {
	st   *store.Store
	ctl  Submitter
	log  hclog.Logger
	wake chan struct{}
}

// New returns a scheduler over st that starts runs through ctl.
func New(st *store.Store, ctl Submitter, log hclog.Logger) *Scheduler {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Scheduler{st: st, ctl: ctl, log: log.Named("scheduler"), wake: make(chan struct{}, 1)}
}

// Wake makes the scheduler look at the schedules again (one was added or changed).
func (s *Scheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run fires ticks until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	for {
		next := s.Pass(ctx, time.Now())
		wait := min(time.Until(next), maxIdle)
		t := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// Pass fires the ticks due at now and returns when the next tick falls.
func (s *Scheduler) Pass(ctx context.Context, now time.Time) time.Time {
	next := now.Add(maxIdle)
	all, err := s.st.AllSchedules()
	if err != nil {
		s.log.Warn("list schedules", "error", err)
		return next
	}
	for _, sc := range all {
		if ctx.Err() != nil {
			break
		}
		if !sc.Enabled {
			continue
		}
		spec, err := Parse(sc.Cron, sc.Timezone)
		if err != nil { // the API checks; a stored one that no longer parses is reported
			s.mark(sc, now, "", err.Error())
			continue
		}
		fire, skipped, upcoming := dueTicks(spec, sc.After, now, sc.Catchup)
		if upcoming.Before(next) {
			next = upcoming
		}
		if !skipped.IsZero() {
			s.mark(sc, skipped, "", "")
		}
		for _, t := range fire {
			s.fire(ctx, sc, t)
		}
	}
	return next
}

// dueTicks returns the ticks in (after, now] to fire, the latest one handled without
// firing (zero if none) and the first tick after now. When every due tick is on time
// (at most OnTime old) each fires, so a pass that runs a little late loses none. When the
// schedule is behind (no process ran), the backlog collapses into its latest tick, which
// fires if it is on time or catchup is one.
func dueTicks(spec *Spec, after, now time.Time, catchup string) (fire []time.Time, skipped, upcoming time.Time) {
	t := spec.Next(after)
	if now.Sub(t) <= OnTime {
		for ; !t.After(now); t = spec.Next(t) {
			fire = append(fire, t)
		}
		return fire, time.Time{}, t
	}
	latest, upcoming := dueTick(spec, after, now)
	if catchup == CatchupNone && now.Sub(latest) > OnTime {
		return nil, latest, upcoming
	}
	return []time.Time{latest}, time.Time{}, upcoming
}

// dueTick returns the latest tick in (after, now] (zero if none) and the first after now.
func dueTick(spec *Spec, after, now time.Time) (due, upcoming time.Time) {
	t := spec.Next(after)
	if spec.every > 0 && t.Before(now) { // jump straight to the last tick
		t = spec.Next(now.Add(-spec.every))
	}
	for n := 0; !t.After(now) && n < 1_000_000; n++ {
		due, t = t, spec.Next(t)
	}
	return due, t
}

// fire starts the run of one tick and records it on the schedule.
func (s *Scheduler) fire(ctx context.Context, sc *store.Schedule, tick time.Time) {
	id, err := s.submit(ctx, sc, tick)
	msg := ""
	if err != nil {
		msg = err.Error()
		s.log.Warn("schedule tick did not start", "function", sc.Function, "schedule", sc.ID, "tick", tick, "error", err)
	}
	s.mark(sc, tick, id, msg)
}

func (s *Scheduler) mark(sc *store.Schedule, tick time.Time, id, msg string) {
	if err := s.st.MarkScheduleTick(sc.Tenant, sc.Function, sc.ID, tick, id, msg); err != nil {
		s.log.Warn("record schedule tick", "function", sc.Function, "schedule", sc.ID, "error", err)
	}
}

func (s *Scheduler) submit(ctx context.Context, sc *store.Schedule, tick time.Time) (string, error) {
	env := sc.Env
	if env == "" {
		env = store.DefaultEnv
	}
	ver, err := s.st.ResolveRef(sc.Tenant, sc.Function, store.Ref{Env: env})
	if err != nil {
		return "", fmt.Errorf("resolve %s@%s: %w", sc.Function, env, err)
	}
	hook, err := s.st.OnComplete(sc.Tenant, sc.Function, ver.Number)
	if err != nil {
		return "", err
	}
	input := sc.Input
	if len(input) == 0 {
		input = json.RawMessage("null")
	}
	tickUTC := tick.UTC()
	sub, err := s.ctl.Submit(ctx, control.Request{
		Async: true, IdempotencyKey: "schedule:" + sc.ID + ":" + strconv.FormatInt(tick.UnixMilli(), 10),
		Trigger: "schedule:" + sc.ID, TickAt: &tickUTC, CallbackURL: hook,
		Task: invocation.Task{InvocationID: TickID(sc, tick), Tenant: sc.Tenant, Function: sc.Function, Version: ver.Number,
			Digest: ver.Digest, Runtime: ver.Runtime, Env: env, Input: input, TimeoutMS: int64(ver.TimeoutMS)},
	})
	if err != nil {
		return "", err
	}
	return sub.Record.ID, nil
}

// TickID is the invocation id of one tick of a schedule, the same in every process: the
// tick's unix milliseconds (12 hex), a zero sequence (4 hex), and 12 hex of
// sha256(tenant, function, schedule, tick) — the layout of store.NewInvocationID, so it
// sorts by time among other ids.
func TickID(sc *store.Schedule, tick time.Time) string {
	ms := tick.UnixMilli()
	h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%s\x00%d", sc.Tenant, sc.Function, sc.ID, ms)))
	return fmt.Sprintf("%012x%04x%s", ms, 0, hex.EncodeToString(h[:6]))
}
