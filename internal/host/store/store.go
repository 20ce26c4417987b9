// Package store keeps the host's durable state in Pebble: functions, immutable
// versions, content-addressed bundles, aliases (environments) and invocation
// records with the indexes the control role and the reaper scan.
//
// Every key starts with the tenant, so one tenant's data is one key range and
// a lookup can never cross tenants by accident. Every write is a single Pebble
// batch committed with pebble.Sync: when a method returns nil the change is on
// disk and survives a SIGKILL of the process.
package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"

	"github.com/sous-run/sous/internal/rawio/rawsync"
)

// Sentinel errors; methods wrap them with context, test with errors.Is.
var (
	// ErrNotFound: no such function, version, alias, bundle or invocation for this tenant.
	ErrNotFound = errors.New("not found")
	// ErrDeleted: the function exists but was deleted (soft delete); it cannot be invoked.
	ErrDeleted = errors.New("function deleted")
	// ErrConflict: an invocation status transition that is not allowed (e.g. out of a final state).
	ErrConflict = errors.New("conflict")
	// ErrInvalid: an argument the store refuses (bad tenant, name, alias, status).
	ErrInvalid = errors.New("invalid argument")
	// ErrClosed: the store is closed (the host is shutting down).
	ErrClosed = errors.New("store closed")
)

// Store is the Pebble-backed state of one host. It is safe for concurrent use;
// writes are serialized by a mutex (read-modify-write of counters and indexes),
// reads are lock-free.
type Store struct {
	db *pebble.DB
	mu sync.Mutex // serializes read-modify-write transactions

	closeMu sync.RWMutex // held (read) by each database call, so Close waits for them
	closed  bool

	idemTTL atomic.Int64 // nanoseconds; 0 = IdempotencyTTL
	opt     Options
	space   space // free space of the data dir, checked before new work is accepted
	dir     string

	repl   Replicator  // cluster mode: writes go through the replicated log (nil: direct)
	flight inflight    // cluster mode: record writes proposed, not yet applied
	cat    catalog     // decoded functions and versions (see catalog.go)
	open   openRecords // open invocation records as last written, one node only (see open.go)

	fnAdded broadcast // a function was deployed that DeployedFunctions did not list
}

// Options tune a store; the zero value is what the host uses.
type Options struct {
	// NoSyncRecords commits invocation records without waiting for fsync, so a crash
	// can forget ids already answered. Only `sous bench` sets it, to measure what
	// durable records cost next to the same run without them.
	NoSyncRecords bool
}

// Open opens (creating if needed) the store in dir.
func Open(dir string) (*Store, error) { return OpenWith(dir, Options{}) }

// pebbleOptions are the store's Pebble options: its WAL syncs raw (rawsync).
func pebbleOptions() *pebble.Options {
	return &pebble.Options{Logger: quietLogger{}, FS: rawsync.FS(vfs.Default)}
}

// OpenWith is Open with options.
func OpenWith(dir string, opt Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	db, err := pebble.Open(dir, pebbleOptions())
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	return &Store{db: db, opt: opt, space: space{dir: dir}, dir: dir}, nil
}

// Close waits for the database calls under way, then flushes and closes the
// database; later calls fail with ErrClosed (Pebble would panic).
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// acquire holds off Close during one database call; ErrClosed once closed.
func (s *Store) acquire() (release func(), err error) {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return nil, ErrClosed
	}
	return s.closeMu.RUnlock, nil
}

// exists reports whether key is present.
func (s *Store) exists(key []byte) (bool, error) {
	release, err := s.acquire()
	if err != nil {
		return false, err
	}
	defer release()
	_, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	closer.Close()
	return true, nil
}

// getJSON loads key into v; ErrNotFound (wrapped with what) if absent.
func (s *Store) getJSON(key []byte, v any, what string) error {
	release, err := s.acquire()
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	defer release()
	val, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	defer closer.Close()
	if err := json.Unmarshal(val, v); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	return nil
}

// setJSON adds key=json(v) to the batch.
func setJSON(b *pebble.Batch, key []byte, v any) error {
	var data []byte
	var err error
	if r, ok := v.(interface{ marshalRecord() ([]byte, error) }); ok {
		data, err = r.marshalRecord()
	} else {
		data, err = json.Marshal(v)
	}
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return b.Set(key, data, nil)
}

// commit writes the batch durably (cluster mode: through the log, applied on return).
func (s *Store) commit(b *pebble.Batch, what string) error {
	defer s.cat.clearFor(b.Repr()) // after the write, even a failed one (it may land later)
	if s.repl != nil {
		wait, err := s.repl.Propose(bytes.Clone(b.Repr())) // b's buffer is pooled after Close
		if err == nil {
			err = wait()
		}
		if err != nil {
			return fmt.Errorf("commit %s: %w", what, err)
		}
		return nil
	}
	return s.apply(b, pebble.Sync, what)
}

// apply commits the batch with opts unless the store is closed.
func (s *Store) apply(b *pebble.Batch, opts *pebble.WriteOptions, what string) error {
	release, err := s.acquire()
	if err != nil {
		return fmt.Errorf("commit %s: %w", what, err)
	}
	defer release()
	if err := b.Commit(opts); err != nil {
		return fmt.Errorf("commit %s: %w", what, err)
	}
	return nil
}

// commitRecord applies an invocation batch at once (readers see it) and returns wait,
// which blocks until the batch is on disk (fsync of Pebble's WAL). Callers release the
// store lock before calling wait, so record writes made at the same time share one
// fsync: Pebble's commit pipeline groups the syncs of every batch queued behind the
// one being synced. An id is answered only after its record's wait returned nil, so a
// SIGKILL of the host never forgets an id it gave out. commitRecord owns b: it is
// closed by wait, or before an error is returned. In cluster mode the batch goes
// through the log instead (proposeRecord); keys are the records it writes.
// With durable false the batch is committed without an fsync of its own: it is in
// Pebble's WAL at once (a crash of the host keeps it) and on disk with the next synced
// commit, which the WAL orders after it; only a machine crash before that forgets it.
func (s *Store) commitRecord(b *pebble.Batch, what string, durable bool, keys ...[]byte) (wait func() error, err error) {
	if s.repl != nil {
		return s.proposeRecord(b, what, keys...)
	}
	release, err := s.acquire()
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("commit %s: %w", what, err)
	}
	if s.opt.NoSyncRecords || !durable {
		err := b.Commit(pebble.NoSync)
		b.Close()
		release()
		if err != nil {
			return nil, fmt.Errorf("commit %s: %w", what, err)
		}
		return func() error { return nil }, nil
	}
	if err := s.db.ApplyNoSyncWait(b, pebble.Sync); err != nil {
		b.Close()
		release()
		return nil, fmt.Errorf("commit %s: %w", what, err)
	}
	return func() error {
		defer release()
		err := b.SyncWait()
		b.Close()
		if err != nil {
			return fmt.Errorf("sync %s to disk: %w", what, err)
		}
		return nil
	}, nil
}

// SyncRecords waits until every record write applied so far is on disk: for an answer
// that reads a record written by another caller (an idempotent replay), or names one
// written without a sync of its own (StartInvocationLater) before its final write.
func (s *Store) SyncRecords(what string) error {
	if s.opt.NoSyncRecords || s.repl != nil { // cluster mode: settle waited for the record
		return nil
	}
	release, err := s.acquire()
	if err != nil {
		return fmt.Errorf("sync %s: %w", what, err)
	}
	defer release()
	if err := s.db.LogData(nil, pebble.Sync); err != nil {
		return fmt.Errorf("sync %s to disk: %w", what, err)
	}
	return nil
}

// scanPrefix calls fn for each key/value under prefix, in key order (or
// reverse). fn returns false to stop. The value slice is only valid during fn.
func (s *Store) scanPrefix(prefix []byte, reverse bool, fn func(k, v []byte) (bool, error)) error {
	return s.scanRange(prefix, prefixEnd(prefix), reverse, fn)
}

// scanRange is scanPrefix over [lo, hi).
func (s *Store) scanRange(lo, hi []byte, reverse bool, fn func(k, v []byte) (bool, error)) error {
	release, err := s.acquire()
	if err != nil {
		return fmt.Errorf("scan %s: %w", lo, err)
	}
	defer release()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return fmt.Errorf("scan %s: %w", lo, err)
	}
	defer it.Close()
	valid := it.First()
	step := it.Next
	if reverse {
		valid, step = it.Last(), it.Prev
	}
	for ; valid; valid = step() {
		cont, err := fn(it.Key(), it.Value())
		if err != nil {
			return err
		}
		if !cont {
			break
		}
	}
	return it.Error()
}

// quietLogger drops Pebble's informational chatter; fatal errors still stop the process.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}
func (quietLogger) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pebble: "+format+"\n", args...)
}
func (quietLogger) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pebble: "+format+"\n", args...)
	os.Exit(1)
}

// decode unmarshals a stored JSON value.
func decode(val []byte, v any, what string) error {
	if err := json.Unmarshal(val, v); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	return nil
}
