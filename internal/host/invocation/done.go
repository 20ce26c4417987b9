package invocation

import (
	"bytes"

	"github.com/sous-run/sous/sdk/envelope"
)

// DoneRaw is the done sentinel as the host writes it to an invocation's log.
var DoneRaw, _ = envelope.Marshal(envelope.Done())

// IsDone reports whether raw, an event read from an invocation's log, is the done
// sentinel. The test is exact without decoding: only the host writes done (a worker
// drops any an executor sends), always as DoneRaw, and an events driver returns the
// bytes it was given (plugintest.Events checks this).
func IsDone(raw []byte) bool { return bytes.Equal(raw, DoneRaw) }
