package server

import (
	"slices"
	"sync"

	"github.com/sous-run/sous/internal/plugins/messaging-redis/queue"
	"github.com/sous-run/sous/sdk"
)

// takers are the plugin's consumers waiting for a task. An Enqueue of a task one of
// them serves takes that one off the list and leases the task to it in the enqueue's
// own script (queue.EnqueueTo): the consumer gets it without a wake-up through Redis
// or a claim of its own, and no other consumer is woken for it. Consumers elsewhere
// are not seen here; they get tasks by claims, as before.
type takers struct {
	mu   sync.Mutex
	idle []*taker
}

// taker is one waiting consumer. Once an Enqueue has taken it off the list, got receives
// exactly one value: the delivery leased to it, or nil when the task was not (a
// duplicate, or an error).
type taker struct {
	sub sdk.Subscription
	to  queue.Taker
	got chan *sdk.Delivery
}

// add lists a consumer as waiting.
func (ts *takers) add(sub sdk.Subscription, to queue.Taker) *taker {
	t := &taker{sub: sub, to: to, got: make(chan *sdk.Delivery, 1)}
	ts.mu.Lock()
	ts.idle = append(ts.idle, t)
	ts.mu.Unlock()
	return t
}

// take removes and returns the first waiting consumer of tenant's command, or nil.
func (ts *takers) take(tenant, command string) *taker {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for i, t := range ts.idle {
		if (t.sub.Tenant == "" || t.sub.Tenant == tenant) && slices.Contains(t.sub.Commands, command) {
			ts.idle = slices.Delete(ts.idle, i, i+1)
			return t
		}
	}
	return nil
}

// remove takes t off the list; false when an Enqueue took it first (its value is on
// the way to got).
func (ts *takers) remove(t *taker) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	i := slices.Index(ts.idle, t)
	if i < 0 {
		return false
	}
	ts.idle = slices.Delete(ts.idle, i, i+1)
	return true
}
