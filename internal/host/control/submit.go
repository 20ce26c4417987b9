package control

import (
	"context"
	"fmt"

	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/internal/host/telemetry"
)

// queueBesideRecord enqueues the task of a new record while the record goes to disk
// (wait), so the caller waits for one durable write's time instead of two. It returns
// nil only when both are durable. The orderings a failure can take:
//   - the record is durable, the enqueue failed: as queue (failed infra, or tracked
//     when the task may still have been queued);
//   - the record failed but the task is (or may be) queued: the record is readable on
//     this node and tracked so the run still finalizes it if the store recovers; the
//     caller is told the task may still run and the idempotency key is kept, so a
//     retry with it does not run it twice. After a crash the record may be gone: the
//     task then runs with no record (no caller holds its id; nothing reads its result);
//   - both failed: the record is closed as failed infra where the store still takes
//     writes and the caller gets the record's error.
func (s *Service) queueBesideRecord(ctx context.Context, req Request, rec *store.Invocation, t *invocation.Task, wait func() error) error {
	synced := make(chan error, 1)
	go func() { synced <- wait() }()
	telemetry.InvocationStarted(t.Runtime)
	qerr := s.enqueue(ctx, t)
	werr := <-synced
	switch {
	case werr == nil && qerr == nil:
		if req.Async {
			s.Track(rec)
		}
		return nil
	case werr == nil:
		return s.notQueued(ctx, req, rec, qerr)
	case qerr == nil || maybeQueued(qerr):
		s.Track(rec)
		return fmt.Errorf("record invocation %s: %w; its task was queued and may still run: GET /v1/invocations/%s has its outcome", rec.ID, werr, rec.ID)
	default:
		_ = s.notQueued(ctx, req, rec, qerr)
		return fmt.Errorf("record invocation %s: %w (and %v)", rec.ID, werr, qerr)
	}
}
