package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/cockroachdb/pebble"
)

// ErrUnavailable: the write could not be replicated (cluster mode: no leader or no
// quorum). Nothing was applied; the API answers 503.
var ErrUnavailable = errors.New("replicated state unavailable")

// Replicator carries the store's writes through a replicated log (internal/host/cluster). Without
// one (a single node) every write is a direct Pebble commit.
type Replicator interface {
	// Propose hands one write, a Pebble batch representation, to the log and returns at
	// once; wait returns when the write is committed and applied to this store, or with an
	// error wrapping ErrUnavailable when it was refused (not the leader, no quorum).
	Propose(repr []byte) (wait func() error, err error)
}

// SetReplicator routes every later write through r (nil: direct commits). Call it before
// the store is shared.
func (s *Store) SetReplicator(r Replicator) { s.repl = r }

// Replicated reports whether writes go through a replicated log (cluster mode).
func (s *Store) Replicated() bool { return s.repl != nil }

// ApplyReplicated applies writes that came through the replicated log (the FSM of
// internal/host/cluster), in order, as one Pebble batch. The log is the durable copy, so Pebble
// does not fsync here.
func (s *Store) ApplyReplicated(reprs ...[]byte) error {
	if len(reprs) == 0 {
		return nil
	}
	release, err := s.acquire()
	if err != nil {
		return fmt.Errorf("apply replicated write: %w", err)
	}
	defer release()
	all := s.db.NewBatch()
	defer all.Close()
	for _, repr := range reprs {
		one := s.db.NewBatch()
		err := one.SetRepr(bytes.Clone(repr))
		if err == nil {
			err = all.Apply(one, nil)
		}
		one.Close()
		if err != nil {
			return fmt.Errorf("apply replicated write: %w", err)
		}
	}
	err = all.Commit(pebble.NoSync)
	for _, repr := range reprs {
		s.cat.clearFor(repr)
	}
	if err != nil {
		return fmt.Errorf("apply replicated write: %w", err)
	}
	return nil
}

// Checkpoint writes a consistent copy of the store into dir (which must not exist):
// hard links to the immutable tables plus the WAL, so it is cheap.
func (s *Store) Checkpoint(dir string) error {
	release, err := s.acquire()
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer release()
	if err := s.db.Checkpoint(dir, pebble.WithFlushedWAL()); err != nil {
		return fmt.Errorf("checkpoint to %s: %w", dir, err)
	}
	return nil
}

// Restore swaps the store's contents for a checkpoint that fill writes into an empty
// directory: it waits for the calls under way, closes the database, moves the new
// files into place and reopens.
func (s *Store) Restore(fill func(dir string) error) error {
	dir := s.dir + ".restore"
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("restore store: %w", err)
	}
	if err := fill(dir); err != nil {
		_ = os.RemoveAll(dir)
		return fmt.Errorf("restore store: %w", err)
	}
	s.mu.Lock() // no read-modify-write sees half of the swap
	defer s.mu.Unlock()
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("replace store: close: %w", err)
	}
	old := s.dir + ".old"
	_ = os.RemoveAll(old)
	if err := os.Rename(s.dir, old); err != nil {
		return fmt.Errorf("replace store: %w", err)
	}
	if err := os.Rename(dir, s.dir); err != nil {
		_ = os.Rename(old, s.dir)
		return fmt.Errorf("replace store: %w", err)
	}
	db, err := pebble.Open(s.dir, pebbleOptions())
	if err != nil {
		s.closed = true
		return fmt.Errorf("replace store: reopen %s: %w", s.dir, err)
	}
	s.db = db
	s.cat.clear() // the swap replaced every function and version
	return os.RemoveAll(old)
}

// proposeRecord hands a record write to the replicator, marking keys in flight until
// it is applied (so a read-modify-write of the same record waits for it, see settle).
// The caller holds s.mu; the returned wait is called after it is released, so record
// writes made at the same time travel in one log append (raft batches them).
func (s *Store) proposeRecord(b *pebble.Batch, what string, keys ...[]byte) (func() error, error) {
	wait, err := s.repl.Propose(bytes.Clone(b.Repr())) // b's buffer is pooled after Close
	b.Close()
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", what, err)
	}
	done := s.flight.add(keys)
	return func() error {
		defer done()
		if err := wait(); err != nil {
			return fmt.Errorf("commit %s: %w", what, err)
		}
		return nil
	}, nil
}

// settle waits until no record write proposed earlier for keys is still on its way
// (cluster mode; a no-op on one node, where writes are visible once applied).
func (s *Store) settle(keys ...[]byte) {
	if s.repl != nil {
		s.flight.wait(keys)
	}
}

// inflight tracks the keys of record writes proposed but not yet applied.
type inflight struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

func (f *inflight) add(keys [][]byte) (done func()) {
	ch := make(chan struct{})
	f.mu.Lock()
	if f.m == nil {
		f.m = map[string]chan struct{}{}
	}
	for _, k := range keys {
		f.m[string(k)] = ch
	}
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		for _, k := range keys {
			if f.m[string(k)] == ch {
				delete(f.m, string(k))
			}
		}
		f.mu.Unlock()
		close(ch)
	}
}

func (f *inflight) wait(keys [][]byte) {
	for _, k := range keys {
		f.mu.Lock()
		ch := f.m[string(k)]
		f.mu.Unlock()
		if ch != nil {
			<-ch
		}
	}
}
