package events

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
)

// EmbeddedOptions bound the embedded log.
type EmbeddedOptions struct {
	MaxEvents int           // per invocation; the oldest are dropped past it (default 10000)
	TTL       time.Duration // kept this long after the last write (default 5m)
	// MaxBytes caps the bytes held by all logs together (limits.max_embedded_events_bytes,
	// default 128 MiB). Past it, finished logs are dropped first (their records hold the
	// outcome), then the chunk and log events of the invocation publishing are dropped
	// behind one truncation event; status, result, error and done are always kept.
	MaxBytes int64
}

// Embedded is the built-in event log for a single host process: bounded per-invocation
// logs in memory with a TTL and blocking reads. Ids are decimal sequence numbers.
type Embedded struct {
	opt   EmbeddedOptions
	mu    sync.Mutex
	logs  map[string]*memLog
	total int64 // bytes held by all logs
	stop  chan struct{}
}

type memLog struct {
	first     uint64 // id of events[0]
	events    [][]byte
	bytes     int64
	done      bool // the done envelope is stored
	truncated bool // chunk and log events are being dropped
	expires   time.Time
	ttl       time.Duration
	wake      chan struct{} // closed and replaced on every append
}

// NewEmbedded returns an embedded log and starts its expiry sweeper; call Close to stop it.
func NewEmbedded(opt EmbeddedOptions) *Embedded {
	if opt.MaxEvents <= 0 {
		opt.MaxEvents = 10000
	}
	if opt.TTL <= 0 {
		opt.TTL = 5 * time.Minute
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = 128 << 20
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

// Publish appends envelopes and wakes blocked readers. Past MaxBytes a chunk or log
// event is dropped (its id is "") and the first one dropped is replaced by a truncation
// event, so a reader sees that output is missing.
func (e *Embedded) Publish(_ context.Context, tenant, id string, envs ...[]byte) ([]string, error) {
	if err := checkPublish(tenant, id, envs); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.get(tenant, id, true)
	ids := make([]string, len(envs))
	for i, b := range envs {
		if droppable(b) && !e.room(l, int64(len(b))) {
			if l.truncated {
				continue
			}
			l.truncated = true
			b = Truncation(fmt.Sprintf("the host's event memory is full (limits.max_embedded_events_bytes %d): later chunk and log events of this invocation are dropped; its result is kept", e.opt.MaxBytes))
		}
		e.append(l, b)
		ids[i] = strconv.FormatUint(l.first+uint64(len(l.events))-1, 10)
	}
	if over := len(l.events) - e.opt.MaxEvents; over > 0 {
		for _, b := range l.events[:over] {
			l.bytes -= int64(len(b))
			e.total -= int64(len(b))
		}
		l.events = append(l.events[:0:0], l.events[over:]...)
		l.first += uint64(over)
	}
	l.expires = time.Now().Add(l.ttl)
	close(l.wake)
	l.wake = make(chan struct{})
	return ids, nil
}

// append stores one envelope in l.
func (e *Embedded) append(l *memLog, b []byte) {
	l.events = append(l.events, bytes.Clone(b))
	l.bytes += int64(len(b))
	e.total += int64(len(b))
	l.done = l.done || invocation.IsDone(b)
}

// room reports whether n more bytes fit under MaxBytes, dropping finished logs (other
// than keep), oldest expiry first, to make room.
func (e *Embedded) room(keep *memLog, n int64) bool {
	for e.total+n > e.opt.MaxBytes {
		var victim string
		var oldest time.Time
		for k, l := range e.logs {
			if l != keep && l.done && (victim == "" || l.expires.Before(oldest)) {
				victim, oldest = k, l.expires
			}
		}
		if victim == "" {
			return false
		}
		e.drop(victim)
	}
	return true
}

// drop forgets one log (the lock is held).
func (e *Embedded) drop(k string) {
	e.total -= e.logs[k].bytes
	delete(e.logs, k)
}

// droppable reports whether an envelope may be dropped under memory pressure: chunk
// and log events are; status, result, error and done never are.
func droppable(b []byte) bool {
	return bytes.Contains(b, []byte(`"type":"chunk"`)) || bytes.Contains(b, []byte(`"type":"log"`))
}

// Read streams events after afterID; see Log.
func (e *Embedded) Read(ctx context.Context, tenant, id, afterID string, follow bool, fn func(Event) error) error {
	next := uint64(1)
	if afterID != "" && afterID != "0" {
		n, err := strconv.ParseUint(afterID, 10, 64)
		if err != nil {
			return fmt.Errorf("read %s: %w: %q is not an event id (this log's ids are numbers)", id, ErrBadEventID, afterID)
		}
		next = n + 1
	}
	if err := e.checkEnd(tenant, id, next-1); err != nil {
		return err
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
		wake, done := l.wake, l.done
		e.mu.Unlock()
		if len(batch) == 0 && done {
			return nil // resumed after done: nothing more will come
		}
		for _, b := range batch {
			if err := fn(Event{ID: strconv.FormatUint(next, 10), Envelope: b}); err != nil {
				return err
			}
			next++
			if invocation.IsDone(b) {
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

// checkEnd refuses a resume after an id the log never gave (past its last event).
func (e *Embedded) checkEnd(tenant, id string, after uint64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.get(tenant, id, false)
	if l == nil || after == 0 {
		return nil
	}
	if last := l.first + uint64(len(l.events)) - 1; after > last {
		return fmt.Errorf("read %s: %w: %d is not an event id: it is past the end of the log (its last id is %d)", id, ErrBadEventID, after, last)
	}
	return nil
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
					e.drop(k)
				}
			}
			e.mu.Unlock()
		}
	}
}
