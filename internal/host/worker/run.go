package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// Specs gives the executor the code of a digest it lacks.
type Specs interface {
	// Spec returns the prepared-function spec (files included) of a digest.
	Spec(ctx context.Context, tenant, digest string) (sdk.FunctionSpec, error)
}

// Executors returns the executor serving a runtime.
type Executors func(runtime string) (sdk.Executor, error)

// Sink receives the envelopes of a run, already gated; it returns an error to abort.
type Sink func(e *envelope.Envelope, raw []byte) error

// ErrInfra marks a run lost to infrastructure (executor unreachable, plugin exited):
// the task should be retried, not reported as the function's own failure.
var ErrInfra = errors.New("infrastructure failure")

// ErrExecutorCrashed marks a run cut by its executor plugin's exit (it also wraps
// ErrInfra): a task that keeps doing this is dead with kind crash, not infra.
var ErrExecutorCrashed = errors.New("executor plugin exited mid-run")

// LostKind is the error kind of a task dead-lettered after runs lost with err.
func LostKind(err error) string {
	if errors.Is(err, ErrExecutorCrashed) {
		return envelope.KindCrash
	}
	return envelope.KindInfra
}

// Runner executes one task through an executor plugin: Prepare on a missing digest,
// Run, gate `log` events unless the env is dev, hand every envelope to the sink.
type Runner struct {
	Executors Executors
	Specs     Specs
}

// Run executes t and returns its outcome. Envelopes (status excluded) go to sink in
// order; log envelopes are dropped here unless invocation.ShowsLogs(t.Env) — the
// single point of enforcement. A returned error wrapping ErrInfra means the run was lost, not finished.
func (r *Runner) Run(ctx context.Context, t *invocation.Task, attempt int, sink Sink) (*invocation.Outcome, error) {
	ex, err := r.Executors(t.Runtime)
	if err != nil {
		return nil, fmt.Errorf("%w: no executor for runtime %q: %v", ErrInfra, t.Runtime, err)
	}
	req := sdk.RunRequest{
		InvocationID: t.InvocationID, Digest: t.Digest, Input: t.Input, Env: t.Env,
		Function: t.Function, Version: fmt.Sprint(t.Version), Attempt: attempt, Tenant: t.Tenant,
	}
	if t.TimeoutMS > 0 {
		req.Deadline = time.Now().Add(time.Duration(t.TimeoutMS) * time.Millisecond)
	}
	started := time.Now()
	for try := 0; ; try++ {
		out, err := r.stream(ctx, ex, req, t, sink)
		if errors.Is(err, sdk.ErrNotFound) && try == 0 {
			if perr := r.prepare(ctx, ex, t); perr != nil {
				return nil, perr
			}
			continue
		}
		if out != nil && out.DurationMS == 0 {
			out.DurationMS = time.Since(started).Milliseconds()
		}
		return out, err
	}
}

func (r *Runner) prepare(ctx context.Context, ex sdk.Executor, t *invocation.Task) error {
	spec, err := r.Specs.Spec(ctx, t.Tenant, t.Digest)
	if err != nil {
		return fmt.Errorf("%w: fetch code of %s@%s: %v", ErrInfra, t.Function, short(t.Digest), err)
	}
	if _, err := ex.Prepare(ctx, spec); err != nil {
		if errors.Is(err, sdk.ErrInvalid) {
			return fmt.Errorf("prepare %s: %w", short(t.Digest), err)
		}
		return fmt.Errorf("%w: prepare %s: %v", ErrInfra, short(t.Digest), err)
	}
	return nil
}

// errTerminal ends a Run stream once its terminal envelope is in.
var errTerminal = errors.New("terminal envelope received")

// stream runs once; a NotFound from the executor comes back wrapped so Run can prepare.
func (r *Runner) stream(ctx context.Context, ex sdk.Executor, req sdk.RunRequest, t *invocation.Task, sink Sink) (*invocation.Outcome, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := 0
	var out *invocation.Outcome
	var abort error // why the host ended the stream
	err := ex.Run(ctx, req, func(raw []byte) error {
		e, derr := envelope.Unmarshal(raw)
		if derr != nil {
			abort = fmt.Errorf("%w: executor sent a bad envelope: %v", ErrInfra, derr)
			return abort
		}
		if e.Type == envelope.TypeLog && !invocation.ShowsLogs(t.Env) {
			return nil
		}
		if e.Type == envelope.TypeChunk {
			chunks++
		}
		if e.Type == envelope.TypeStatus || e.Type == envelope.TypeDone {
			return nil // only the worker writes status and done
		}
		if err := sink(e, stamp(e, raw)); err != nil {
			abort = fmt.Errorf("%w: publish event of %s: %v", ErrInfra, t.InvocationID, err)
			return abort
		}
		if e.Terminal() {
			out = invocation.FromTerminal(t.InvocationID, e)
			out.Chunks = chunks
			return errTerminal
		}
		return nil
	})
	switch {
	case out != nil:
		return out, nil
	case abort != nil:
		return nil, abort
	case err == nil:
		err = errors.New("executor ended the run without a result")
	}
	return nil, streamError(ctx, t, err)
}

// streamError classifies an error opening or reading a Run stream. The executor reports
// the function's own failures as envelopes, so an error here is never the function's:
// NotFound (digest not prepared) comes back for Run to prepare, the worker's own
// cancellation as is, and everything else — the plugin restarting or exited, a broken
// connection — wraps ErrInfra so the task is retried.
func streamError(ctx context.Context, t *invocation.Task, err error) error {
	if errors.Is(err, sdk.ErrNotFound) {
		return fmt.Errorf("run %s: %w", t.InvocationID, err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("run %s: %w", t.InvocationID, ctx.Err())
	}
	// The plugin manager reports a plugin that died under the call this way.
	if errors.Is(err, sdk.ErrUnavailable) && strings.Contains(err.Error(), " exited") {
		return fmt.Errorf("%w: %w: run %s: %v", ErrInfra, ErrExecutorCrashed, t.InvocationID, err)
	}
	return fmt.Errorf("%w: run %s: %v", ErrInfra, t.InvocationID, err)
}

func short(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return d
}
