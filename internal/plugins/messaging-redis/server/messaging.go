package server

import (
	"context"
	"time"

	"github.com/sous-run/sous/internal/redisconn"
	"github.com/sous-run/sous/sdk"
)

// Enqueue stores a task; one due now goes straight to a consumer of this plugin waiting
// for it, leased to it in the same script (see takers).
func (s *Server) Enqueue(ctx context.Context, t sdk.Task) (sdk.Enqueued, error) {
	r := s.enqueueOne(ctx, t)
	return r.Enqueued, redisconn.Classify(r.Err)
}

func (s *Server) enqueueOne(ctx context.Context, t sdk.Task) sdk.EnqueueResult {
	if t.Delay <= 0 {
		if tk := s.takers.take(t.Tenant, t.Command); tk != nil {
			r, d := s.queue().EnqueueTo(ctx, t, tk.to)
			tk.got <- d
			return r
		}
	}
	id, dup, err := s.queue().Enqueue(ctx, t)
	return sdk.EnqueueResult{Enqueued: sdk.Enqueued{ID: id, Duplicate: dup}, Err: err}
}

// EnqueueBatch stores several tasks in one pipeline (sdk.BatchEnqueuer); a batch of one
// is an Enqueue.
func (s *Server) EnqueueBatch(ctx context.Context, ts []sdk.Task) []sdk.EnqueueResult {
	if len(ts) == 1 {
		r := s.enqueueOne(ctx, ts[0])
		r.Err = redisconn.Classify(r.Err)
		return []sdk.EnqueueResult{r}
	}
	res := s.queue().EnqueueBatch(ctx, ts)
	for i := range res {
		res[i].Err = redisconn.Classify(res[i].Err)
	}
	return res
}

// Ack completes a task.
func (s *Server) Ack(ctx context.Context, l sdk.Lease, result []byte) error {
	return redisconn.Classify(s.queue().Ack(ctx, l.Tenant, l.TaskID, l.ID, result))
}

// AckBatch completes several tasks in one pipeline (sdk.BatchAcker).
func (s *Server) AckBatch(ctx context.Context, items []sdk.AckItem) []error {
	errs := s.queue().AckBatch(ctx, items)
	for i, err := range errs {
		errs[i] = redisconn.Classify(err)
	}
	return errs
}

// Fail ends a task with an error, retrying when retryable.
func (s *Server) Fail(ctx context.Context, l sdk.Lease, reason string, retryable bool) (bool, error) {
	st, err := s.queue().Fail(ctx, l.Tenant, l.TaskID, l.ID, reason, retryable)
	return st == sdk.TaskDead, redisconn.Classify(err)
}

// Nack returns a task to the queue after a delay.
func (s *Server) Nack(ctx context.Context, l sdk.Lease, delay time.Duration, reason string) (bool, error) {
	st, err := s.queue().Nack(ctx, l.Tenant, l.TaskID, l.ID, reason, delay)
	return st == sdk.TaskDead, redisconn.Classify(err)
}

// Extend pushes a lease into the future.
func (s *Server) Extend(ctx context.Context, l sdk.Lease, d time.Duration) (time.Time, error) {
	exp, err := s.queue().Extend(ctx, l.Tenant, l.TaskID, l.ID, d)
	if err != nil {
		return time.Time{}, redisconn.Classify(err)
	}
	return time.UnixMilli(exp), nil
}

// Result reports a task's status and outcome.
func (s *Server) Result(ctx context.Context, tenant, id string) (sdk.TaskResult, error) {
	r, err := s.queue().Get(ctx, tenant, id)
	return r, redisconn.Classify(err)
}

// Stats counts tasks per command.
func (s *Server) Stats(ctx context.Context, tenant string, commands []string) ([]sdk.CommandStats, error) {
	cs, err := s.queue().Stats(ctx, tenant, commands)
	return cs, redisconn.Classify(err)
}
