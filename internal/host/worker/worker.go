// Package worker is the worker role of the host: it pulls invocation tasks, never more
// than its free slots, runs them through the executor plugins, publishes
// their (gated) events, acks with the final record and then publishes done.
package worker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/host/events"
	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/procs"
	"github.com/sous-run/sous/internal/host/telemetry"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// Options configure a worker.
type Options struct {
	ID       string   // worker id shown in status events
	Runtimes []string // a worker serving every function also drains sous.run.<runtime>
	// Functions are the functions served (worker.functions): "name" (in every tenant) or
	// "tenant/name"; empty means every deployed function.
	Functions []string
	Deployed  Deployed      // lists deployed functions; nil: only "tenant/name" entries and runtime queues
	Refresh   time.Duration // how often the deployed functions are listed again (default 2s)
	// Changed (optional) returns a channel closed when a function is next added to the
	// deployed ones (a first deploy in this process): they are listed again at once, so
	// a new function's first invocation does not wait for the next Refresh.
	Changed      func() <-chan struct{}
	Concurrency  int // slots: tasks run at once (default 8)
	LeaseSeconds int // lease asked for each task (default 30)
	EventsTTL    time.Duration
	CallTimeout  time.Duration // bound on each ack, nack, extend and publish (default 30s)
	// MaxEventBytes caps the chunk and log bytes published per run (limits.max_event_bytes,
	// default 16 MiB): past it they are dropped behind one truncation event.
	MaxEventBytes int64
	// StatusDelay is how long a run's status event waits to lead the run's first events
	// in one publish before it is published alone (default DefaultStatusDelay).
	StatusDelay time.Duration
	// Runs counts the runs in flight (nil counts none): from the executor's call to its
	// return, not the ack and the last publish after it.
	Runs *procs.Lane
}

// DefaultStatusDelay is Options.StatusDelay's default: a run that answers within it
// publishes status, result and done in one call.
const DefaultStatusDelay = 20 * time.Millisecond

// Worker consumes and runs tasks until its context ends.
type Worker struct {
	opt    Options
	msg    sdk.Messaging
	events events.Log
	runner *Runner
	log    hclog.Logger
	wg     sync.WaitGroup

	slotMu   sync.Mutex
	inFlight int           // deliveries being handled, across consumers
	freed    chan struct{} // signalled when a slot is released

	cmdMu sync.Mutex
	cmds  []string // the commands of the current (or next) stream
}

// New returns a worker over the given messaging, event log and runner.
func New(opt Options, msg sdk.Messaging, log events.Log, runner *Runner, logger hclog.Logger) *Worker {
	if opt.Concurrency <= 0 {
		opt.Concurrency = 8
	}
	if opt.LeaseSeconds <= 0 {
		opt.LeaseSeconds = 30
	}
	if opt.EventsTTL <= 0 {
		opt.EventsTTL = 5 * time.Minute
	}
	if opt.CallTimeout <= 0 {
		opt.CallTimeout = 30 * time.Second
	}
	if opt.MaxEventBytes <= 0 {
		opt.MaxEventBytes = 16 << 20
	}
	if opt.Refresh <= 0 {
		opt.Refresh = 2 * time.Second
	}
	if opt.StatusDelay <= 0 {
		opt.StatusDelay = DefaultStatusDelay
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Worker{opt: opt, msg: msg, events: log, runner: runner, log: logger.Named("worker"), freed: make(chan struct{}, 1)}
}

// Commands returns the messaging commands the worker consumes (as last listed).
func (w *Worker) Commands() []string {
	w.cmdMu.Lock()
	defer w.cmdMu.Unlock()
	return slices.Clone(w.cmds)
}

// Run consumes until ctx ends, reconnecting (backoff 100 ms → 5 s) when the consumer
// breaks. In-flight runs finish before Run returns.
func (w *Worker) Run(ctx context.Context) error {
	defer w.wg.Wait()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		changed := w.changed() // before listing: a change made meanwhile still wakes the watch
		if _, err := w.refresh(ctx); err != nil && len(w.Commands()) == 0 {
			w.log.Warn("list deployed functions; trying again", "error", err)
		}
		if len(w.Commands()) == 0 {
			// Nothing to serve yet (worker.functions not deployed): look again later.
			select {
			case <-time.After(w.opt.Refresh):
			case <-changed:
			case <-ctx.Done():
			}
			continue
		}
		start := time.Now()
		err := w.consume(ctx, changed)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errCommandsChanged) {
			w.log.Info("function commands changed; subscribing again", "commands", len(w.Commands()))
			continue
		}
		if time.Since(start) > 10*time.Second {
			backoff = 100 * time.Millisecond
		}
		w.log.Warn("consume stream ended; reconnecting", "error", err, "backoff", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
		backoff = min(backoff*2, 5*time.Second)
	}
	return nil
}

// consume holds one consumer: it waits for a free slot, asks for at most the free
// slots and runs each delivery in its own goroutine. Runs delivered to an earlier
// consumer still hold their slots, so the worker never holds more than Concurrency
// tasks. changed is the deployed-functions signal taken before the commands were listed.
func (w *Worker) consume(ctx context.Context, changed <-chan struct{}) error {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go w.watchCommands(sctx, cancel, changed)
	c, err := w.msg.Consume(sctx, sdk.Subscription{Commands: w.Commands(), Lease: w.lease(), WorkerID: w.opt.ID})
	if err != nil {
		return fmt.Errorf("open consumer: %w", err)
	}
	defer c.Close()
	var ended <-chan struct{} // nil: the consumer cannot tell; Next will
	if e, ok := c.(sdk.Ender); ok {
		ended = e.Ended()
	}
	for {
		// With every slot busy nothing is asked for, but a consumer that ends is
		// noticed at once (Next then says why, granting nothing).
		free := w.waitFree(sctx, ended)
		var ds []sdk.Delivery
		var err error
		if free > 0 || sctx.Err() == nil {
			ds, err = c.Next(sctx, max(free, 1))
		} else {
			err = sctx.Err()
		}
		if err != nil {
			if cause := context.Cause(sctx); errors.Is(cause, errCommandsChanged) {
				return cause
			}
			return fmt.Errorf("receive task: %w", err)
		}
		for _, d := range ds {
			w.slotMu.Lock()
			w.inFlight++
			w.slotMu.Unlock()
			w.wg.Add(1)
			go func() {
				defer w.wg.Done()
				w.handle(ctx, d)
				w.release()
			}()
		}
	}
}

// waitFree returns the number of free slots once there is at least one, or 0 when
// ctx ends or the consumer has ended first.
func (w *Worker) waitFree(ctx context.Context, ended <-chan struct{}) int {
	for {
		w.slotMu.Lock()
		free := w.opt.Concurrency - w.inFlight
		w.slotMu.Unlock()
		if free > 0 {
			return free
		}
		select {
		case <-w.freed:
		case <-ended:
			return 0
		case <-ctx.Done():
			return 0
		}
	}
}

// release frees a slot and wakes the consume loop if it waits for one.
func (w *Worker) release() {
	w.slotMu.Lock()
	w.inFlight--
	w.slotMu.Unlock()
	select {
	case w.freed <- struct{}{}:
	default:
	}
}

// lease is the lease asked for each task.
func (w *Worker) lease() time.Duration { return time.Duration(w.opt.LeaseSeconds) * time.Second }

// bounded is ctx limited to one call's timeout: a hung plugin must not hold a slot
// (or shutdown) forever.
func (w *Worker) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, w.opt.CallTimeout)
}

// handle runs one delivery to its end: status, run, ack (or nack), done.
func (w *Worker) handle(ctx context.Context, d sdk.Delivery) {
	t, err := invocation.DecodeTask(d.Task.Payload)
	if err == nil {
		err = t.Validate()
	}
	attempt := max(d.Task.Attempt, 1)
	ref := d.Lease
	if err != nil {
		w.failUndecodable(ctx, ref, attempt, err)
		return
	}
	if c, ok := w.events.(events.Claimer); ok { // its events go straight to this host's followers
		defer c.Claim(t.Tenant, t.InvocationID)()
	}
	log := w.log.With(append(telemetry.InvocationFields(t.InvocationID, t.Tenant, t.Function), "attempt", attempt)...)
	ctx, run := telemetry.StartRun(ctx, &t, attempt)
	defer run.End()

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	// Acks, nacks and publishes finish even when the worker is shutting down.
	ctx = context.WithoutCancel(ctx)
	go w.extend(runCtx, ref, log)

	// status leads the run's first batch of events (see statusGate), or goes alone
	// after StatusDelay.
	statusRaw, _ := envelope.Marshal(&envelope.Envelope{Type: envelope.TypeStatus, Status: string(invocation.StatusRunning), Attempt: attempt, Worker: w.opt.ID, TS: time.Now().UnixMilli()})
	status := newStatusGate(statusRaw, w.opt.StatusDelay, func(envs ...[]byte) error { return w.publish(ctx, &t, envs...) })
	// The terminal envelope is held back and published with done after the ack.
	var terminal []byte
	capped := w.eventCap()
	sink := func(e *envelope.Envelope, raw []byte) error {
		if raw == nil {
			raw, _ = envelope.Marshal(e)
		}
		if e.Terminal() {
			terminal = raw
			return nil
		}
		if raw = capped(e, raw); raw == nil {
			return nil
		}
		batch, owner, err := status.lead(raw)
		if err != nil {
			return fmt.Errorf("status not published: %w", err)
		}
		err = w.publish(ctx, &t, batch...)
		if owner {
			status.settle(err)
		}
		return err
	}
	endRun := w.opt.Runs.Begin()
	out, err := w.runner.Run(runCtx, &t, attempt, sink)
	endRun()
	run.Ran()
	if serr := status.wait(); serr != nil {
		log.Warn("publish status; returning the task", "error", serr)
		w.nack(ctx, ref, log)
		return
	}
	if err != nil && (errors.Is(err, ErrInfra) || runCtx.Err() != nil) {
		log.Warn("run lost to infrastructure; returning the task", "error", err)
		// The attempt's status goes in before the task goes back: the next attempt's
		// events must follow it.
		status.flush()
		if dead := w.nack(ctx, ref, log); dead {
			w.finish(ctx, &t, ref, &invocation.Outcome{InvocationID: t.InvocationID, Status: invocation.StatusFailed, Attempt: attempt, Worker: w.opt.ID,
				Error: &invocation.ErrorInfo{Kind: LostKind(err), Message: fmt.Sprintf("gave up after %d attempts: %v", attempt, err)}}, nil, status, log)
		}
		return
	}
	if err != nil {
		out = invocation.Fail(t.InvocationID, envelope.KindUser, err.Error())
		terminal = nil
	}
	out.Attempt, out.Worker = attempt, w.opt.ID
	w.finish(ctx, &t, ref, out, terminal, status, log)
}

// finish acks with the final record and publishes the terminal event (the run's own,
// or one made from out when terminal is nil) and done in one batch, led by the
// attempt's status when that is still held (status may be nil: no status). The two go out at
// once: the caller's answer (done → final record) does not wait for the queue's own
// durable write of the ack, and finish returns (freeing the slot) once both are done.
// done never depended on the ack (a failed ack is logged and done published anyway);
// a worker that dies between them leaves an unacked task that is run again, as any
// run lost before its ack is (at-least-once). When the event log refuses the batch
// (a terminal over its envelope limit), done goes alone after the ack: the final
// record then carries the outcome to the caller.
func (w *Worker) finish(ctx context.Context, t *invocation.Task, ref sdk.Lease, out *invocation.Outcome, terminal []byte, status *statusGate, log hclog.Logger) {
	out.FinishedAtMS = time.Now().UnixMilli()
	rec := out.Record()
	acked := make(chan struct{})
	go func() {
		defer close(acked)
		actx, cancel := w.bounded(ctx)
		defer cancel()
		err := retryUnavailable(actx, func() error { return w.msg.Ack(actx, ref, rec) })
		if err != nil {
			log.Warn("ack", "error", err)
		}
	}()
	if terminal == nil {
		terminal, _ = envelope.Marshal(out.Terminal())
	}
	batch := [][]byte{terminal, invocation.DoneRaw}
	owner := false
	if status != nil {
		batch, owner, _ = status.lead(batch...)
	}
	err := w.publishLast(ctx, t, batch...)
	if owner {
		status.settle(err)
	}
	<-acked
	if err != nil {
		log.Warn("publish the terminal event; publishing done alone, the final record has the outcome", "error", err)
		if err := w.publishLast(ctx, t, invocation.DoneRaw); err != nil {
			log.Warn("publish done", "error", err)
		}
	}
}

// publish appends envelopes to the invocation's log within one call's timeout.
func (w *Worker) publish(ctx context.Context, t *invocation.Task, envs ...[]byte) error {
	return w.append(ctx, t, 0, envs)
}

// publishLast appends the invocation's last envelopes and gives its log the events TTL
// in the same call.
func (w *Worker) publishLast(ctx context.Context, t *invocation.Task, envs ...[]byte) error {
	return w.append(ctx, t, w.opt.EventsTTL, envs)
}

// append publishes envs (then sets the log's TTL when ttl > 0) within one call's timeout.
func (w *Worker) append(ctx context.Context, t *invocation.Task, ttl time.Duration, envs [][]byte) error {
	ctx, cancel := w.bounded(ctx)
	defer cancel()
	defer telemetry.ObservePublish(time.Now(), t.Runtime, envs)
	if _, err := sdk.PublishLast(ctx, w.events, t.Tenant, t.InvocationID, ttl, envs...); err != nil {
		return fmt.Errorf("publish events of %s: %w", t.InvocationID, err)
	}
	return nil
}

// nack returns the task for a retry; it reports whether the task was dead-lettered.
func (w *Worker) nack(ctx context.Context, ref sdk.Lease, log hclog.Logger) bool {
	ctx, cancel := w.bounded(ctx)
	defer cancel()
	dead, err := w.msg.Nack(ctx, ref, 0, "run lost")
	if err != nil {
		log.Warn("nack", "error", err)
		return false
	}
	return dead
}

// extend keeps the lease alive while the run lasts (every third of the lease).
func (w *Worker) extend(ctx context.Context, ref sdk.Lease, log hclog.Logger) {
	every := w.lease() / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			cctx, cancel := context.WithTimeout(ctx, every)
			_, err := w.msg.Extend(cctx, ref, w.lease())
			cancel()
			if err != nil {
				log.Warn("extend lease", "error", err)
			}
		}
	}
}
