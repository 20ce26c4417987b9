// Package events is the host's view of the per-invocation event log: the Log interface,
// the built-in `embedded` driver (memory, one host process) and an adapter over an
// events plugin.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrBadEventID marks a Read whose afterID is not an id the log could have given.
var ErrBadEventID = errors.New("not an event id")

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
type Event struct {
	ID       string
	Envelope []byte
}

// Log stores each invocation's envelopes in order and lets readers follow them.
type Log interface {
	// Publish appends envelopes (JSON objects) and returns their ids.
	Publish(ctx context.Context, tenant, invocationID string, envelopes ...[]byte) ([]string, error)
	// Read calls fn for each event after afterID ("" = from the start). With follow it
	// blocks for new events and returns after the done envelope; without, it returns
	// once the stored events are read. It returns ctx's error when ctx ends first.
	Read(ctx context.Context, tenant, invocationID, afterID string, follow bool, fn func(Event) error) error
	// Expire sets how long the invocation's log is kept after its last write.
	Expire(ctx context.Context, tenant, invocationID string, ttl time.Duration) error
}
