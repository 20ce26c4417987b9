package broker

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble"
)

// Key layout: "t/<id>" → record JSON; "i/<tenant>\x00<idempotency key>" → id.
func taskKey(id string) []byte { return []byte("t/" + id) }
func idemKey(tenant, key string) []byte {
	return []byte("i/" + tenant + "\x00" + key)
}

// store persists records in Pebble with group commit: writes are staged in order under
// the broker lock and committed (fsync) by one goroutine, so many concurrent changes
// share one sync and a later change of a task never lands before an earlier one.
// A lazy write (putLazy) is committed without its own fsync: it reaches the disk with
// the next synced commit, which Pebble's single WAL orders after it.
type store struct {
	db      *pebble.DB
	mu      sync.Mutex
	cond    *sync.Cond
	batch   *pebble.Batch
	waiters []chan error
	lazy    bool // the batch holds lazy writes only
	closed  bool
	done    chan struct{}
}

func openStore(dir string) (*store, error) {
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		return nil, fmt.Errorf("open pebble at %s: %w", dir, err)
	}
	s := &store{db: db, batch: db.NewBatch(), done: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	go s.commitLoop()
	return s, nil
}

// load calls fn for every stored record and idempotency key.
func (s *store) load(fn func(*record), idem func(k []byte, id string)) error {
	it, err := s.db.NewIter(nil)
	if err != nil {
		return fmt.Errorf("iterate store: %w", err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		switch {
		case len(k) > 2 && string(k[:2]) == "t/":
			r := &record{}
			if err := json.Unmarshal(it.Value(), r); err != nil {
				return fmt.Errorf("decode task %s: %w", k[2:], err)
			}
			fn(r)
		case len(k) > 2 && string(k[:2]) == "i/":
			idem(append([]byte(nil), k...), string(it.Value()))
		}
	}
	return nil
}

// put stages r; the returned channel yields the commit's error once it is durable.
func (s *store) put(r *record) <-chan error {
	b, _ := json.Marshal(r)
	return s.stage(func(bt *pebble.Batch) { _ = bt.Set(taskKey(r.ID), b, nil) })
}

// putLazy stages r without waiting for the disk: the write is in the WAL (the OS's page
// cache) at once, so it survives a crash of this process, and on disk with the next
// synced commit. For changes a machine crash may forget without losing a task.
func (s *store) putLazy(r *record) {
	b, _ := json.Marshal(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	_ = s.batch.Set(taskKey(r.ID), b, nil)
	s.lazy = true
	s.cond.Signal()
}

// putIdem stages an idempotency key together with nothing else.
func (s *store) putIdem(tenant, key, id string) {
	s.stage(func(bt *pebble.Batch) { _ = bt.Set(idemKey(tenant, key), []byte(id), nil) })
}

// del stages the removal of a task (and its idempotency key).
func (s *store) del(r *record) <-chan error {
	return s.stage(func(bt *pebble.Batch) {
		_ = bt.Delete(taskKey(r.ID), nil)
		if r.IdemKey != "" {
			_ = bt.Delete(idemKey(r.Tenant, r.IdemKey), nil)
		}
	})
}

func (s *store) stage(f func(*pebble.Batch)) <-chan error {
	ch := make(chan error, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		ch <- fmt.Errorf("store closed")
		return ch
	}
	f(s.batch)
	s.waiters = append(s.waiters, ch)
	s.cond.Signal()
	return ch
}

func (s *store) commitLoop() {
	defer close(s.done)
	for {
		s.mu.Lock()
		for len(s.waiters) == 0 && !s.lazy && !s.closed {
			s.cond.Wait()
		}
		if len(s.waiters) == 0 && !s.lazy && s.closed {
			s.mu.Unlock()
			return
		}
		b, ws := s.batch, s.waiters
		s.batch, s.waiters, s.lazy = s.db.NewBatch(), nil, false
		s.mu.Unlock()
		opts := pebble.Sync
		if len(ws) == 0 {
			opts = pebble.NoSync // lazy writes only
		}
		err := b.Commit(opts)
		if err != nil {
			err = fmt.Errorf("commit to pebble: %w", err)
		}
		_ = b.Close()
		for _, w := range ws {
			w <- err
		}
	}
}

func (s *store) close() error {
	s.mu.Lock()
	s.closed = true
	s.cond.Signal()
	s.mu.Unlock()
	<-s.done
	return s.db.Close()
}

// quietLogger drops Pebble's informational logs (plugins must not print to stdout).
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
