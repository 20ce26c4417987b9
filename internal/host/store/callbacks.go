package store

import (
	"bytes"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble"
)

// Callback statuses: waiting for the run to end, pending delivery (due at NextAt),
// delivered, failed (given up after webhooks.max_age), or elsewhere (another control
// process queued the same run and calls back).
const (
	CallbackWaiting   = "waiting"
	CallbackPending   = "pending"
	CallbackDelivered = "delivered"
	CallbackFailed    = "failed"
	CallbackElsewhere = "elsewhere"
)

// Callback is the completion webhook of an invocation and how its delivery went.
type Callback struct {
	URL         string     `json:"url"`
	Status      string     `json:"status"`
	Attempts    int        `json:"attempts"`
	LastError   string     `json:"last_error,omitempty"`
	LastStatus  int        `json:"last_status,omitempty"` // HTTP status of the last answer
	NextAt      *time.Time `json:"next_at,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
}

// Done reports whether delivery is over (delivered or given up).
func (c *Callback) Done() bool {
	return c.Status == CallbackDelivered || c.Status == CallbackFailed || c.Status == CallbackElsewhere
}

// OutboxEntry names an invocation whose callback is not delivered yet.
type OutboxEntry struct {
	Tenant string
	ID     string
}

// outboxKey is <t>/outbox/<id>: present while the invocation's callback is not done.
func outboxKey(t, id string) []byte { return key(t, "outbox", id) }

// addOutbox adds the outbox entry of a new invocation that asks for a callback, in the
// batch that creates the record: a callback accepted with the invocation is never lost.
func addOutbox(batch *pebble.Batch, inv *Invocation) error {
	if inv.Callback == nil {
		return nil
	}
	if inv.Callback.Status == "" {
		inv.Callback.Status = CallbackWaiting
	}
	return batch.Set(outboxKey(inv.Tenant, inv.ID), nil, nil)
}

// ListOutbox returns every undelivered callback, across tenants, in id (creation) order.
func (s *Store) ListOutbox() ([]OutboxEntry, error) {
	tenants, err := s.tenants()
	if err != nil {
		return nil, err
	}
	var out []OutboxEntry
	for _, t := range tenants {
		err := s.scanPrefix(prefix(t, "outbox"), false, func(k, _ []byte) (bool, error) {
			out = append(out, OutboxEntry{Tenant: t, ID: string(k[bytes.LastIndexByte(k, '/')+1:])})
			return true, nil
		})
		if err != nil {
			return nil, fmt.Errorf("list outbox of %s: %w", t, err)
		}
	}
	return out, nil
}

// UpdateCallback applies change to an invocation's callback (final records included:
// delivery happens after the end) and writes it durably. When the callback is done its
// outbox entry goes in the same batch.
func (s *Store) UpdateCallback(tenant, id string, change func(*Callback)) (*Invocation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle(invKey(tenant, id))
	s.open.forget(invKey(tenant, id)) // rewritten here; the next change reads it
	inv, err := s.GetInvocation(tenant, id)
	if err != nil {
		return nil, err
	}
	if inv.Callback == nil {
		return nil, fmt.Errorf("invocation %s has no callback: %w", id, ErrNotFound)
	}
	change(inv.Callback)
	batch := s.db.NewBatch()
	defer batch.Close()
	if err := setJSON(batch, invKey(tenant, id), inv); err != nil {
		return nil, err
	}
	if inv.Callback.Done() {
		if err := batch.Delete(outboxKey(tenant, id), nil); err != nil {
			return nil, err
		}
	}
	if err := s.commit(batch, "callback of "+id); err != nil {
		return nil, err
	}
	return inv, nil
}

// DropOutbox forgets an outbox entry whose invocation is gone.
func (s *Store) DropOutbox(tenant, id string) error {
	batch := s.db.NewBatch()
	defer batch.Close()
	if err := batch.Delete(outboxKey(tenant, id), nil); err != nil {
		return err
	}
	return s.commit(batch, "drop outbox entry "+id)
}
