package queue

import (
	"context"
	"fmt"

	"github.com/sous-run/sous/sdk"
)

// Ack completes a leased task with its result. Repeating an Ack of the same lease is a
// no-op, so an Ack retried through a Redis restart is never applied twice.
func (q *Queue) Ack(ctx context.Context, tenant, id, lease string, result []byte) error {
	return q.AckBatch(ctx, []sdk.AckItem{{Lease: sdk.Lease{Tenant: tenant, TaskID: id, ID: lease}, Result: result}})[0]
}

// AckBatch acks several leases, each as Ack does, in one pipeline: one round trip
// for all. It returns one error (nil: acked) per item; an item fails alone.
func (q *Queue) AckBatch(ctx context.Context, items []sdk.AckItem) []error {
	_, errs := q.evalEach(ctx, ackScript, len(items), func(i int) (scriptCall, error) { return q.ackCall(ctx, items[i]) })
	for i, err := range errs {
		if err != nil {
			errs[i] = fmt.Errorf("ack %s: %w", items[i].Lease.TaskID, scriptErr(err))
		}
	}
	return errs
}

// ackCall checks one ack and returns its run of the ack script.
func (q *Queue) ackCall(ctx context.Context, it sdk.AckItem) (scriptCall, error) {
	l := it.Lease
	if err := checkRef(l.Tenant, l.TaskID); err != nil {
		return scriptCall{}, err
	}
	if len(it.Result) > q.cfg.MaxPayloadBytes {
		return scriptCall{}, invalid("result of task %s is %d bytes, over max_payload_bytes %d", l.TaskID, len(it.Result), q.cfg.MaxPayloadBytes)
	}
	cmd, err := q.leaseCommand(ctx, l.Tenant, l.TaskID, l.ID)
	if err != nil {
		return scriptCall{}, err
	}
	k := q.keys(l.Tenant)
	return scriptCall{keys: []string{k.task(l.TaskID), k.leased(cmd)},
		args: []any{l.TaskID, l.ID, it.Result, q.cfg.ResultTTL.D().Milliseconds(), cmd}}, nil
}
