package queue

import (
	"context"
	"time"

	"github.com/sous-run/sous/sdk"
)

// Taker is a consumer waiting for a task: an Enqueue may lease its task to it at once.
type Taker struct {
	Worker string        // the consumer's worker id, as Claim takes it
	Lease  time.Duration // the lease it claims for
}

// EnqueueTo is Enqueue that leases the task to to when it is due now, in the same
// script: the task is never queued, no consumer is woken for it and no claim is made.
// The delivery is nil when the task was not leased (a duplicate, a delayed task), and
// then it is queued as Enqueue queues it.
func (q *Queue) EnqueueTo(ctx context.Context, t sdk.Task, to Taker) (sdk.EnqueueResult, *sdk.Delivery) {
	id, maxAtt := "", 0
	cmds, errs := q.evalEach(ctx, enqueueScript, 1, func(int) (scriptCall, error) {
		c, err := q.enqueueCall(t, &to)
		if err == nil {
			id, maxAtt = c.args[0].(string), c.args[4].(int)
		}
		return c, err
	})
	res, out := enqueued(t, id, cmds[0], errs[0])
	if len(out) < 4 {
		return res, nil
	}
	t.ID, t.Attempt, t.MaxAttempts, t.EnqueuedAt = res.ID, 1, maxAtt, time.Now()
	return res, &sdk.Delivery{Task: t, Lease: sdk.Lease{Tenant: t.Tenant, TaskID: res.ID, ID: str(out[2]), Expires: unixMs(num(out[3]))}}
}
