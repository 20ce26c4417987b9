package sdk

import (
	"context"
	"time"
)

// Event is one stored envelope of an invocation's log. IDs compare in log order.
type Event struct {
	ID       string
	Envelope []byte // one JSON object
}

// EventLog is the per-invocation event log. The host's embedded log implements it too.
type EventLog interface {
	// Publish appends envelopes in order and returns their ids.
	Publish(ctx context.Context, tenant, invocationID string, envelopes ...[]byte) ([]string, error)
	// Read calls fn for every event after afterID ("" from the start); with follow it
	// waits for more until ctx ends or fn returns an error. A malformed afterID is
	// ErrInvalid.
	Read(ctx context.Context, tenant, invocationID, afterID string, follow bool, fn func(Event) error) error
	// Expire keeps the log for ttl more, then drops it.
	Expire(ctx context.Context, tenant, invocationID string, ttl time.Duration) error
}

// Events is an events plugin: Base plus the log.
type Events interface {
	Base
	EventLog
}
