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

// LastPublisher is an EventLog that appends an invocation's last envelopes and sets its
// log's time to live in one call: Publish then Expire(ttl), without a second round
// trip (ttl <= 0: the log's own TTL, as Publish leaves it). The host uses it when the
// log has it; a plugin's client always has it.
type LastPublisher interface {
	PublishLast(ctx context.Context, tenant, invocationID string, ttl time.Duration, envelopes ...[]byte) ([]string, error)
}

// PublishLast appends envelopes and then sets the log's ttl, in one call when l is a
// LastPublisher and in two otherwise. Only the append can fail it: a TTL that could not
// be set leaves the one Publish gave.
func PublishLast(ctx context.Context, l EventLog, tenant, invocationID string, ttl time.Duration, envelopes ...[]byte) ([]string, error) {
	if lp, ok := l.(LastPublisher); ok {
		return lp.PublishLast(ctx, tenant, invocationID, ttl, envelopes...)
	}
	ids, err := l.Publish(ctx, tenant, invocationID, envelopes...)
	if err == nil && ttl > 0 {
		_ = l.Expire(ctx, tenant, invocationID, ttl)
	}
	return ids, err
}

// Events is an events plugin: Base plus the log.
type Events interface {
	Base
	EventLog
}

// PublishItem is one invocation's envelopes in a PublishBatch; TTL is as
// PublishLast's (<= 0: the log's own).
type PublishItem struct {
	Tenant, InvocationID string
	TTL                  time.Duration
	Envelopes            [][]byte
}

// PublishResult is one PublishItem's outcome: its ids, or why it failed.
type PublishResult struct {
	IDs []string
	Err error
}

// BatchPublisher is an optional EventLog method: several invocations' publishes (each
// a PublishLast) in one round trip of the driver's own. It returns one result per
// item, in order; each item succeeds or fails alone. The SDK sends a batch when
// publishes wait behind one on its way; a driver without the method gets the items
// one by one, all at once.
type BatchPublisher interface {
	PublishBatch(ctx context.Context, items []PublishItem) []PublishResult
}
