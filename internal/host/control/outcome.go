package control

import (
	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
)

// OutcomeOf returns the outcome a final record holds.
func OutcomeOf(rec *store.Invocation) *invocation.Outcome {
	out := &invocation.Outcome{InvocationID: rec.ID, Status: rec.Status, Output: rec.Output, Error: rec.Error, DurationMS: rec.DurationMS, Attempt: rec.Attempts}
	if rec.FinishedAt != nil {
		out.FinishedAtMS = rec.FinishedAt.UnixMilli()
	}
	return out
}

// SendOutcome sends a final record's terminal event and done to h.
func SendOutcome(rec *store.Invocation, h Handler) error { return OutcomeOf(rec).Send(h) }
