package fakes

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/sdk"
)

// Events is an in-memory sdk.EventLog: ids are 1, 2, 3… per invocation, and a
// following Read ends after an envelope of type done.
type Events struct {
	base
	Hook Hook // optional; see Hook

	mu   sync.Mutex
	logs map[string][][]byte
	ttls map[string]time.Duration
	wake chan struct{}
}

// NewEvents returns an empty log.
func NewEvents() *Events {
	return &Events{base: base{kind: sdk.KindEvents}, logs: map[string][][]byte{}, ttls: map[string]time.Duration{}, wake: make(chan struct{})}
}

var _ sdk.Events = (*Events)(nil)

// Publish appends envelopes.
func (e *Events) Publish(ctx context.Context, tenant, id string, envs ...[]byte) ([]string, error) {
	if err := call(ctx, e.Hook, "Publish", id); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	k := key(tenant, id)
	var ids []string
	for _, env := range envs {
		e.logs[k] = append(e.logs[k], bytes.Clone(env))
		ids = append(ids, strconv.Itoa(len(e.logs[k])))
	}
	close(e.wake)
	e.wake = make(chan struct{})
	return ids, nil
}

// Envelopes returns the invocation's envelopes so far.
func (e *Events) Envelopes(tenant, id string) [][]byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([][]byte(nil), e.logs[key(tenant, id)]...)
}

// Read passes events after afterID to fn; with follow it waits for more until done.
func (e *Events) Read(ctx context.Context, tenant, id, afterID string, follow bool, fn func(sdk.Event) error) error {
	if err := call(ctx, e.Hook, "Read", id); err != nil {
		return err
	}
	next := 0
	if afterID != "" {
		n, err := strconv.Atoi(afterID)
		if err != nil || n < 0 {
			return fmt.Errorf("read %s: %q is not an event id: %w", id, afterID, sdk.ErrInvalid)
		}
		next = n
	}
	for {
		e.mu.Lock()
		log, wake := e.logs[key(tenant, id)], e.wake
		e.mu.Unlock()
		for ; next < len(log); next++ {
			if err := fn(sdk.Event{ID: strconv.Itoa(next + 1), Envelope: log[next]}); err != nil {
				return err
			}
			if follow && invocation.IsDone(log[next]) {
				return nil
			}
		}
		if !follow {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Expire records the ttl.
func (e *Events) Expire(ctx context.Context, tenant, id string, ttl time.Duration) error {
	if err := call(ctx, e.Hook, "Expire", id); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ttls[key(tenant, id)] = ttl
	return nil
}

// TTL returns the ttl last set for an invocation's log, and whether one was.
func (e *Events) TTL(tenant, id string) (time.Duration, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ttl, ok := e.ttls[key(tenant, id)]
	return ttl, ok
}
