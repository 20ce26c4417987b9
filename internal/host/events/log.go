// Package events is the host's view of the per-invocation event log: Log (the SDK's
// EventLog, which an events plugin's client implements too) and the built-in
// `embedded` driver (memory, one host process).
package events

import (
	"encoding/json"
	"time"

	"github.com/sous-run/sous/sdk"
)

// ErrBadEventID marks a Read whose afterID is not an id the log could have given: the
// SDK's ErrInvalid, which is what an events plugin answers then.
var ErrBadEventID = sdk.ErrInvalid

// TruncatedStatus is the status of the event that says a log dropped output: a
// status event, so every client shows or skips it without a new event type.
const TruncatedStatus = "truncated"

// Truncation returns the event that replaces dropped chunk and log events; why names
// the limit that was reached.
func Truncation(why string) []byte {
	b, _ := json.Marshal(map[string]any{"type": "status", "status": TruncatedStatus, "message": why, "ts": time.Now().UnixMilli()})
	return b
}

// Event is one stored envelope and the id the log gave it.
type Event = sdk.Event

// Log stores each invocation's envelopes in order and lets readers follow them. With
// follow, Read returns after the done envelope; it returns ctx's error when ctx ends
// first.
type Log = sdk.EventLog
