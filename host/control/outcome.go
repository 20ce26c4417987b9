package control

import (
	"github.com/sous-run/sous/host/invocation"
	"github.com/sous-run/sous/host/store"
	"github.com/sous-run/sous/sdk/envelope"
)

// TerminalOf returns the result or error envelope that reports a final record.
func TerminalOf(rec *store.Invocation) *envelope.Envelope {
	out := &invocation.Outcome{Status: string(rec.Status), Output: rec.Output, DurationMS: rec.DurationMS}
	if rec.FinishedAt != nil {
		out.FinishedAtMS = rec.FinishedAt.UnixMilli()
	}
	if rec.Error != nil {
		out.Error = &invocation.ErrorInfo{Kind: rec.Error.Kind, Message: rec.Error.Message, Stack: rec.Error.Stack}
	}
	return out.Terminal()
}

// sendOutcome sends a final record's terminal event and done to h.
func sendOutcome(rec *store.Invocation, h Handler) error {
	for _, e := range []*envelope.Envelope{TerminalOf(rec), envelope.Done()} {
		raw, _ := envelope.Marshal(e)
		if err := h("", e, raw); err != nil {
			return err
		}
	}
	return nil
}
