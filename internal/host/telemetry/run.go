package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/sous-run/sous/internal/host/invocation"
	sdktel "github.com/sous-run/sous/sdk/telemetry"
)

// StartSubmit begins the control role's span of an accepted invocation (a child of
// the caller's traceparent, when the request had one) and stores its trace context
// in the task, so every later hop continues the same trace. End the span when the
// submit returns.
func StartSubmit(ctx context.Context, t *invocation.Task) (context.Context, trace.Span) {
	ctx, span := sdktel.Start(ctx, "control.submit", t.InvocationID, trace.SpanKindServer, taskAttrs(t)...)
	t.Traceparent = sdktel.Traceparent(ctx)
	return ctx, span
}

// StartFollow begins the span of relaying an invocation's events to its caller.
func StartFollow(ctx context.Context, invocationID string) (context.Context, trace.Span) {
	return sdktel.Start(ctx, "control.follow", invocationID, trace.SpanKindInternal)
}

// Run is one attempt of a task on a worker: its stage timings and its span.
type Run struct {
	t     *invocation.Task
	span  trace.Span
	start time.Time
}

// StartRun notes a delivered task: its queue wait (first attempt) or redelivery, the
// run in progress, and the worker's span continuing the task's trace. Call Ran when
// the executor is done and End when the outcome is acked.
func StartRun(ctx context.Context, t *invocation.Task, attempt int) (context.Context, *Run) {
	now := time.Now()
	if attempt > 1 {
		redeliveries.WithLabelValues(invocation.Command(t.Runtime)).Inc()
	} else if t.EnqueuedAtMS > 0 {
		ObserveStage(StageQueueWait, t.Runtime, now.Sub(time.UnixMilli(t.EnqueuedAtMS)))
	}
	inProgress.Inc()
	ctx = sdktel.WithTraceparent(ctx, t.Traceparent)
	ctx, span := sdktel.Start(ctx, "worker.run", t.InvocationID, trace.SpanKindConsumer,
		append(taskAttrs(t), attribute.Int("sous.attempt", attempt))...)
	return ctx, &Run{t: t, span: span, start: now}
}

// Ran records the run stage (the executor call).
func (r *Run) Ran() { ObserveStage(StageRun, r.t.Runtime, time.Since(r.start)) }

// End records the total (enqueue to ack) and ends the span.
func (r *Run) End() {
	inProgress.Dec()
	if r.t.EnqueuedAtMS > 0 {
		ObserveStage(StageTotal, r.t.Runtime, time.Since(time.UnixMilli(r.t.EnqueuedAtMS)))
	}
	r.span.End()
}

func taskAttrs(t *invocation.Task) []attribute.KeyValue {
	if !sdktel.Enabled() {
		return nil
	}
	return []attribute.KeyValue{attribute.String("sous.tenant", t.Tenant), attribute.String("sous.function", t.Function),
		attribute.String("sous.runtime", t.Runtime), attribute.Int("sous.version", t.Version)}
}

// InvocationFields are the log fields every line about an invocation carries.
func InvocationFields(id, tenant, function string) []any {
	return []any{"invocation_id", id, "tenant", tenant, "function", function}
}
