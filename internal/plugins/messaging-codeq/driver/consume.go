package driver

import (
	"context"
	"time"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/client"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/workerpb"
	"github.com/sous-run/sous/sdk"
)

// Consume subscribes to the commands on the process's shared worker stream.
func (d *Driver) Consume(_ context.Context, sub sdk.Subscription) (sdk.Consumer, error) {
	if len(sub.Commands) == 0 {
		return nil, sdk.Errorf(sdk.ErrInvalid, "consume: Subscribe.commands is empty: list the commands (queues) to consume")
	}
	w, err := d.workerStream(sub.WorkerID)
	if err != nil {
		return nil, err
	}
	d.note(sub.Commands...)
	return &consumer{w: w, s: w.Subscribe(sub.Commands, int32(sub.Lease/time.Second))}, nil
}

// consumer maps the SDK's requests onto Ready{count} credits of one subscription.
type consumer struct {
	w       *client.Worker
	s       *client.Sub
	granted int // credits given to codeQ and not yet delivered
}

// Next tops codeQ's credits up to max and returns the next delivered task.
func (c *consumer) Next(ctx context.Context, max int) ([]sdk.Delivery, error) {
	if max > c.granted {
		c.s.Credit(max - c.granted)
		c.granted = max
	}
	t, err := c.s.Next(ctx)
	if err != nil {
		return nil, err
	}
	c.granted--
	dl := delivery(c.w, t)
	c.w.SetOwner(t.Id, dl.Task.Tenant)
	return []sdk.Delivery{dl}, nil
}

// Return abandons tasks the SDK could not hand over, so codeQ redelivers them at once.
func (c *consumer) Return(ctx context.Context, ds []sdk.Delivery) {
	for _, d := range ds {
		_ = c.w.Abandon(ctx, d.Task.ID)
	}
}

// Close ends the subscription (tasks it holds undelivered are abandoned).
func (c *consumer) Close() error {
	c.s.Close()
	return nil
}

func delivery(w *client.Worker, t *workerpb.Task) sdk.Delivery {
	tenant, payload := unwrapPayload(w.Tenant(), t.Payload)
	lease, until, _ := w.Lease(t.Id)
	var enq time.Time
	if t.CreatedAt != nil {
		enq = t.CreatedAt.AsTime()
	}
	return sdk.Delivery{
		Task: sdk.Task{ID: t.Id, Tenant: tenant, Command: t.Command, Payload: payload, Priority: int(t.Priority),
			MaxAttempts: int(sousAttempts(t.MaxAttempts)), Attempt: int(sousAttempts(t.Attempts)), EnqueuedAt: enq},
		Lease: sdk.Lease{Tenant: tenant, TaskID: t.Id, ID: lease, Expires: until},
	}
}
