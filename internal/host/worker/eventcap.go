package worker

import (
	"fmt"

	"github.com/sous-run/sous/internal/host/events"
	"github.com/sous-run/sous/sdk/envelope"
)

// eventCap returns the filter of one run's chunk and log events: it passes them until
// MaxEventBytes have gone by, then returns one truncation event in place of the first
// one over and nil (drop) for the rest. Status and terminal events are not counted.
func (w *Worker) eventCap() func(e *envelope.Envelope, raw []byte) []byte {
	var sent int64
	truncated := false
	return func(e *envelope.Envelope, raw []byte) []byte {
		if e.Type != envelope.TypeChunk && e.Type != envelope.TypeLog {
			return raw
		}
		if truncated {
			return nil
		}
		if sent += int64(len(raw)); sent <= w.opt.MaxEventBytes {
			return raw
		}
		truncated = true
		return events.Truncation(fmt.Sprintf("this invocation's events are over limits.max_event_bytes (%d bytes): later chunk and log events are dropped; the result follows", w.opt.MaxEventBytes))
	}
}
