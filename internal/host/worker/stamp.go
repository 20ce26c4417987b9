package worker

import (
	"time"

	"github.com/sous-run/sous/sdk/envelope"
)

// stamp gives a received event the time it reached the host, so every stored
// event has one. Log events keep the time the runtime took when the line was
// written; a time on any other event came from the function's process and is
// replaced (re-encoded: a rare path, as runners send none).
func stamp(e *envelope.Envelope, raw []byte) []byte {
	if e.Type == envelope.TypeLog && e.TS != 0 {
		return raw
	}
	had := e.TS != 0
	e.TS = time.Now().UnixMilli()
	if had {
		if b, err := envelope.Marshal(e); err == nil {
			return b
		}
	}
	return envelope.Stamp(raw, e.TS)
}
