package broker

import (
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"

	"github.com/sous-run/sous/internal/rawio/rawsync"
)

// Key layout: "t/<id>" → record JSON; "i/<tenant>\x00<idempotency key>" → id.
func taskKey(id string) []byte { return []byte("t/" + id) }
func idemKey(tenant, key string) []byte {
	return []byte("i/" + tenant + "\x00" + key)
}

// store persists records in Pebble with group commit: writes are staged in order under
// the broker lock and committed (fsync) by one goroutine, so many concurrent changes
// share one sync and a later change of a task never lands before an earlier one.
// A task staged again before its commit is written once, as its latest state (a task
// created and leased at once is one write), and records are encoded by the commit
// goroutine, outside the broker lock.
// A lazy write (putLazy) is committed without its own fsync: it reaches the disk with
// the next synced commit, which Pebble's single WAL orders after it.
type store struct {
	db      *pebble.DB
	mu      sync.Mutex
	cond    *sync.Cond
	ops     []storeOp
	byTask  map[string]int // task id → its op in ops
	waiters []chan error
	lazy    bool // the staged ops need no sync of their own
	closed  bool
	done    chan struct{}
}

// storeOp is one staged change: a task's latest state (or its removal), or a raw key.
type storeOp struct {
	task     bool
	rec      record // task: a copy of the record as staged
	key, val []byte // raw key: val to set, nil to delete
	del      bool
}

func openStore(dir string) (*store, error) {
	db, err := pebble.Open(dir, pebbleOptions())
	if err != nil {
		return nil, fmt.Errorf("open pebble at %s: %w", dir, err)
	}
	s := &store{db: db, byTask: map[string]int{}, done: make(chan struct{})}
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
			if err := decodeRecord(it.Value(), r); err != nil {
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
	return s.stage(func() { s.stageTask(r, false) })
}

// putLazy stages r without waiting for the disk: the write is in the WAL (the OS's page
// cache) at once, so it survives a crash of this process, and on disk with the next
// synced commit. For changes a machine crash may forget without losing a task.
func (s *store) putLazy(r *record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.stageTask(r, false)
	s.lazy = true
	s.cond.Signal()
}

// putIdem stages an idempotency key together with nothing else.
func (s *store) putIdem(tenant, key, id string) {
	s.stage(func() { s.ops = append(s.ops, storeOp{key: idemKey(tenant, key), val: []byte(id)}) })
}

// del stages the removal of a task (and its idempotency key).
func (s *store) del(r *record) <-chan error {
	return s.stage(func() {
		s.stageTask(r, true)
		if r.IdemKey != "" {
			s.ops = append(s.ops, storeOp{key: idemKey(r.Tenant, r.IdemKey), del: true})
		}
	})
}

// stageTask stages r's current state, replacing a staged earlier one. Caller holds s.mu.
func (s *store) stageTask(r *record, del bool) {
	op := storeOp{task: true, rec: *r, del: del}
	if i, ok := s.byTask[r.ID]; ok {
		s.ops[i] = op
		return
	}
	s.byTask[r.ID] = len(s.ops)
	s.ops = append(s.ops, op)
}

// stage runs f (which stages ops) and returns a channel that yields once they are durable.
func (s *store) stage(f func()) <-chan error {
	ch := make(chan error, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		ch <- fmt.Errorf("store closed")
		return ch
	}
	f()
	s.waiters = append(s.waiters, ch)
	s.cond.Signal()
	return ch
}

func (s *store) commitLoop() {
	defer close(s.done)
	var buf []byte
	var spare []storeOp // the ops slice of the last commit, reused for staging
	for {
		s.mu.Lock()
		for len(s.waiters) == 0 && !s.lazy && !s.closed {
			s.cond.Wait()
		}
		if len(s.waiters) == 0 && !s.lazy && s.closed {
			s.mu.Unlock()
			return
		}
		ops, ws := s.ops, s.waiters
		s.ops, s.waiters, s.lazy = spare, nil, false
		clear(s.byTask)
		s.mu.Unlock()
		b := s.db.NewBatch()
		for i := range ops {
			op := &ops[i]
			switch {
			case op.task && op.del:
				_ = b.Delete(taskKey(op.rec.ID), nil)
			case op.task:
				buf = appendRecord(buf[:0], &op.rec)
				_ = b.Set(taskKey(op.rec.ID), buf, nil)
			case op.del:
				_ = b.Delete(op.key, nil)
			default:
				_ = b.Set(op.key, op.val, nil)
			}
		}
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
		clear(ops) // drop the records' payloads and results
		spare = ops[:0]
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

// memTableSize is the store's memtable: a task set and removed within one memtable
// (enqueued, leased and acked while it fills) never reaches a table file, so
// compactions do not rewrite it. Pebble's 4 MiB default held about one 1 MiB task's
// writes: payloads were flushed and compacted, half the plugin's CPU on 1 MiB runs.
const memTableSize = 32 << 20

// pebbleOptions are the store's Pebble options.
func pebbleOptions() *pebble.Options {
	return &pebble.Options{Logger: quietLogger{}, FS: rawsync.FS(vfs.Default), MemTableSize: memTableSize}
}

// quietLogger drops Pebble's informational logs (plugins must not print to stdout).
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
