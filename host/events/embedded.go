package events

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// EmbeddedOptions bound the embedded log.
type EmbeddedOptions struct {
	MaxEvents int           // per invocation; the oldest are dropped past it (default 10000)
	TTL       time.Duration // kept this long after the last write (default 5m)
}

// Embedded is the built-in event log for a single host process: bounded per-invocation
// logs in memory with a TTL and blocking reads. Ids are decimal sequence numbers.
type Embedded struct {
	opt  EmbeddedOptions
	mu   sync.Mutex
	logs map[string]*memLog
	stop chan struct{}
}

type memLog struct {
	first   uint64 // id of events[0]
	events  [][]byte
	expires time.Time
	ttl     time.Duration
	wake    chan struct{} // closed and replaced on every append
}

// NewEmbedded returns an embedded log and starts its expiry sweeper; call Close to stop it.
func NewEmbedded(opt EmbeddedOptions) *Embedded {
	if opt.MaxEvents <= 0 {
		opt.MaxEvents = 10000
	}
	if opt.TTL <= 0 {
		opt.TTL = 5 * time.Minute
	}
	e := &Embedded{opt: opt, logs: map[string]*memLog{}, stop: make(chan struct{})}
	go e.sweep()
	return e
}

// Close stops the sweeper.
func (e *Embedded) Close() { close(e.stop) }

func key(tenant, id string) string { return tenant + "\x00" + id }

func (e *Embedded) get(tenant, id string, create bool) *memLog {
	k := key(tenant, id)
	l := e.logs[k]
	if l == nil && create {
		l = &memLog{first: 1, wake: make(chan struct{}), ttl: e.opt.TTL, expires: time.Now().Add(e.opt.TTL)}
		e.logs[k] = l
	}
	return l
}

// Publish appends envelopes and wakes blocked readers.
func (e *Embedded) Publish(_ context.Context, tenant, id string, envs ...[]byte) ([]string, error) {
	if tenant == "" || id == "" {
		return nil, fmt.Errorf("publish: tenant and invocation id are required")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.get(tenant, id, true)
	ids := make([]string, len(envs))
	for i, b := range envs {
		l.events = append(l.events, bytes.Clone(b))
		ids[i] = strconv.FormatUint(l.first+uint64(len(l.events))-1, 10)
	}
	if over := len(l.events) - e.opt.MaxEvents; over > 0 {
		l.events = append(l.events[:0:0], l.events[over:]...)
		l.first += uint64(over)
	}
	l.expires = time.Now().Add(l.ttl)
	close(l.wake)
	l.wake = make(chan struct{})
	return ids, nil
}

// Read streams events after afterID; see Log.
func (e *Embedded) Read(ctx context.Context, tenant, id, afterID string, follow bool, fn func(Event) error) error {
	next := uint64(1)
	if afterID != "" && afterID != "0" {
		n, err := strconv.ParseUint(afterID, 10, 64)
		if err != nil {
			return fmt.Errorf("read %s: %w: %q (this log's ids are numbers)", id, ErrBadEventID, afterID)
		}
		next = n + 1
	}
	for {
		e.mu.Lock()
		l := e.get(tenant, id, follow)
		if l == nil {
			e.mu.Unlock()
			return nil
		}
		if next < l.first {
			next = l.first
		}
		var batch [][]byte
		if idx := next - l.first; idx < uint64(len(l.events)) {
			batch = l.events[idx:]
		}
		wake := l.wake
		e.mu.Unlock()
		for _, b := range batch {
			if err := fn(Event{ID: strconv.FormatUint(next, 10), Envelope: b}); err != nil {
				return err
			}
			next++
			if isDone(b) {
				return nil
			}
		}
		if !follow {
			return nil
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Expire sets the log's TTL from now.
func (e *Embedded) Expire(_ context.Context, tenant, id string, ttl time.Duration) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if l := e.get(tenant, id, false); l != nil {
		l.ttl = ttl
		l.expires = time.Now().Add(ttl)
	}
	return nil
}

func (e *Embedded) sweep() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case now := <-t.C:
			e.mu.Lock()
			for k, l := range e.logs {
				if !l.expires.IsZero() && now.After(l.expires) {
					delete(e.logs, k)
				}
			}
			e.mu.Unlock()
		}
	}
}

var doneMarker = []byte(`"type":"done"`)

// isDone reports whether an envelope is the done sentinel without a full decode.
func isDone(b []byte) bool { return bytes.Contains(b, doneMarker) && len(b) < 32 }
