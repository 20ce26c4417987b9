package worker

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/host/invocation"
	"github.com/sous-run/sous/sdk/envelope"
	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

// failUndecodable ends a task whose payload the worker cannot decode at once: the
// invocation (the task id) fails with a record that says why, and its caller gets that
// answer from the event log instead of waiting for a timeout. Retrying cannot help.
func (w *Worker) failUndecodable(ctx context.Context, task *messagingpb.Task, ref leaseRef, attempt int, err error) {
	log := w.log.With("invocation", task.GetId())
	log.Error("failing a task that cannot be decoded", "error", err)
	ctx = context.WithoutCancel(ctx)
	if ref.tenant == "" || ref.id == "" {
		fctx, cancel := w.bounded(ctx)
		defer cancel()
		_, _ = w.msg.Fail(fctx, &messagingpb.FailRequest{Tenant: ref.tenant, Id: ref.id, LeaseId: ref.lease, Error: "malformed task payload: " + err.Error()})
		return
	}
	t := &invocation.Task{Tenant: ref.tenant, InvocationID: ref.id}
	w.finish(ctx, t, ref, &invocation.Outcome{InvocationID: ref.id, Status: invocation.StatusFailed, Attempt: attempt, Worker: w.opt.ID,
		Error: &invocation.ErrorInfo{Kind: envelope.KindInfra, Message: "the worker could not decode the task: " + err.Error()}}, nil, log)
}

// retryUnavailable repeats call while it fails with Unavailable (the messaging plugin
// restarting) until ctx ends: an ack lost to a restart would run the task again.
func retryUnavailable(ctx context.Context, call func() error) error {
	back := 50 * time.Millisecond
	for {
		err := call()
		if status.Code(err) != codes.Unavailable {
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
