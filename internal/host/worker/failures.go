package worker

import (
	"context"
	"errors"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// failUndecodable ends a task whose payload the worker cannot decode at once: the
// invocation (the task id) fails with a record that says why, and its caller gets that
// answer from the event log instead of waiting for a timeout. Retrying cannot help.
func (w *Worker) failUndecodable(ctx context.Context, ref sdk.Lease, attempt int, err error) {
	log := w.log.With("invocation", ref.TaskID)
	log.Error("failing a task that cannot be decoded", "error", err)
	ctx = context.WithoutCancel(ctx)
	if ref.Tenant == "" || ref.TaskID == "" {
		fctx, cancel := w.bounded(ctx)
		defer cancel()
		_, _ = w.msg.Fail(fctx, ref, "malformed task payload: "+err.Error(), false)
		return
	}
	t := &invocation.Task{Tenant: ref.Tenant, InvocationID: ref.TaskID}
	w.finish(ctx, t, ref, &invocation.Outcome{InvocationID: ref.TaskID, Status: invocation.StatusFailed, Attempt: attempt, Worker: w.opt.ID,
		Error: &invocation.ErrorInfo{Kind: envelope.KindInfra, Message: "the worker could not decode the task: " + err.Error()}}, nil, nil, log)
}

// retryUnavailable repeats call while it fails with Unavailable (the messaging plugin
// restarting) until ctx ends: an ack lost to a restart would run the task again.
func retryUnavailable(ctx context.Context, call func() error) error {
	back := 50 * time.Millisecond
	for {
		err := call()
		if !errors.Is(err, sdk.ErrUnavailable) {
			return err
		}
		select {
		case <-time.After(back):
		case <-ctx.Done():
			return err
		}
		back = min(2*back, time.Second)
	}
}
