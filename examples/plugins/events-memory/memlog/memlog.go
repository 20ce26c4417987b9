// Package memlog is the implementation of the events-memory example plugin: an
// in-memory, per-invocation event log implementing sdk.Events.
package memlog

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// Store is an sdk.Events kept in memory.
type Store struct {
	log hclog.Logger

	mu   sync.Mutex
	max  int
	logs map[string]*invLog
}

// invLog is one invocation's events. changed is closed and replaced on every change
// so readers can wait for the next event.
type invLog struct {
	events  []sdk.Event
	end     int // events up to and including done (0: no done yet); readers stop there
	gone    bool
	changed chan struct{}
	expiry  *time.Timer
}

// New returns an empty store; a nil logger logs nothing.
func New(log hclog.Logger) *Store {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Store{log: log, max: 10000, logs: map[string]*invLog{}}
}

// get returns the log of k, creating it; the caller holds s.mu.
func (s *Store) get(k string) *invLog {
	l := s.logs[k]
	if l == nil {
		l = &invLog{changed: make(chan struct{})}
		s.logs[k] = l
	}
	return l
}

func (l *invLog) notify() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// Publish validates and appends envelopes; ids count from 1 per invocation. Nothing
// is stored when any envelope is invalid. Events after done are stored but never read.
func (s *Store) Publish(_ context.Context, tenant, invocationID string, envelopes ...[]byte) ([]string, error) {
	k, err := key(tenant, invocationID)
	if err != nil {
		return nil, err
	}
	types := make([]string, len(envelopes))
	for n, b := range envelopes {
		e, err := envelope.Unmarshal(b)
		if err != nil {
			return nil, fmt.Errorf("%w: envelope %d of %s: %v", sdk.ErrInvalid, n, invocationID, err)
		}
		if n < len(envelopes)-1 && e.Type == envelope.TypeDone {
			return nil, fmt.Errorf("%w: envelope %d of %s: done must be the last envelope", sdk.ErrInvalid, n, invocationID)
		}
		types[n] = e.Type
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.get(k)
	if len(l.events)+len(envelopes) > s.max {
		return nil, fmt.Errorf("%w: invocation %s would exceed max_events %d", sdk.ErrExhausted, invocationID, s.max)
	}
	ids := make([]string, len(envelopes))
	for n, b := range envelopes {
		ids[n] = strconv.Itoa(len(l.events) + 1)
		l.events = append(l.events, sdk.Event{ID: ids[n], Envelope: bytes.Clone(b)})
		if l.end == 0 && types[n] == envelope.TypeDone {
			l.end = len(l.events)
		}
	}
	l.notify()
	return ids, nil
}

// Read calls fn for the events after afterID, then (with follow) waits for more and
// ends after done.
func (s *Store) Read(ctx context.Context, tenant, invocationID, afterID string, follow bool, fn func(sdk.Event) error) error {
	k, err := key(tenant, invocationID)
	if err != nil {
		return err
	}
	after, err := parseID(afterID)
	if err != nil {
		return err
	}
	for {
		s.mu.Lock()
		l := s.logs[k]
		if l == nil && !follow {
			s.mu.Unlock()
			return nil
		}
		l = s.get(k)
		upTo := len(l.events)
		if l.end > 0 {
			upTo = l.end
		}
		pending := l.events[min(after, uint64(upTo)):upTo]
		done, gone, changed := l.end > 0, l.gone, l.changed
		s.mu.Unlock()
		for _, ev := range pending {
			if err := fn(ev); err != nil {
				return err
			}
			after++
		}
		if done || !follow {
			return nil
		}
		if gone {
			return fmt.Errorf("%w: invocation %s: log expired", sdk.ErrNotFound, invocationID)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Expire drops the invocation's log ttl from now (0: now).
func (s *Store) Expire(_ context.Context, tenant, invocationID string, ttl time.Duration) error {
	k, err := key(tenant, invocationID)
	if err != nil {
		return err
	}
	if ttl < 0 {
		return fmt.Errorf("%w: ttl_seconds %d is negative", sdk.ErrInvalid, int64(ttl/time.Second))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.get(k)
	if l.expiry != nil {
		l.expiry.Stop()
	}
	l.expiry = time.AfterFunc(ttl, func() { s.drop(k, l) })
	return nil
}

func (s *Store) drop(k string, l *invLog) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logs[k] == l {
		delete(s.logs, k)
	}
	l.gone = true
	l.notify()
}
