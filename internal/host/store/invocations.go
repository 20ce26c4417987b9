package store

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble"

	"github.com/sous-run/sous/internal/host/invocation"
)

// Invocation is the record of one run of a function version.
type Invocation struct {
	ID             string                `json:"id"`
	Tenant         string                `json:"tenant"`
	Function       string                `json:"function"`
	Version        int                   `json:"version"`
	Digest         string                `json:"digest,omitempty"`
	Env            string                `json:"env,omitempty"`
	Status         invocation.Status     `json:"status"`
	Error          *invocation.ErrorInfo `json:"error,omitempty"`
	CreatedAt      time.Time             `json:"created_at"`
	StartedAt      *time.Time            `json:"started_at,omitempty"`
	FinishedAt     *time.Time            `json:"finished_at,omitempty"`
	DurationMS     int64                 `json:"duration_ms,omitempty"`
	Attempts       int                   `json:"attempts"`
	IdempotencyKey string                `json:"idempotency_key,omitempty"`
	Trigger        string                `json:"trigger,omitempty"`  // what started it: "schedule:<id>"; empty for a call
	TickAt         *time.Time            `json:"tick_at,omitempty"`  // the schedule tick it runs for
	Callback       *Callback             `json:"callback,omitempty"` // its completion webhook (see callbacks.go)
	// Last, in this order: written with rawjson.Set (see marshalRecord).
	Input  json.RawMessage `json:"input,omitempty"`
	Output json.RawMessage `json:"output,omitempty"`
}

// marshalRecord encodes the record with its input and output spliced in as they
// came (checked by the API and the executor), not compacted again: a pass over each
// byte of a large input and output at each of the record's writes.
func (inv *Invocation) marshalRecord() ([]byte, error) {
	return inv.appendRecord(make([]byte, 0, 512+len(inv.Input)+len(inv.Output)))
}

// NewInvocationID returns a new id: 12 hex digits of unix milliseconds, 4 of a
// sequence within that millisecond, then 12 random hex digits, so ids made by one
// process sort strictly by creation (and those of several processes by time).
func NewInvocationID() string {
	idMu.Lock()
	ms := time.Now().UnixMilli()
	if ms <= idLastMS {
		ms, idSeq = idLastMS, idSeq+1
		if idSeq > 0xffff {
			ms, idSeq = ms+1, 0
		}
	} else {
		idSeq = 0
	}
	idLastMS = ms
	seq := idSeq
	idMu.Unlock()
	var r [6]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("%012x%04x%s", ms, seq, hex.EncodeToString(r[:]))
}

var (
	idMu     sync.Mutex
	idLastMS int64
	idSeq    int
)

// CreateInvocation records a new invocation. Empty ID, CreatedAt and Status
// are filled in (new id, now, pending). If IdempotencyKey is set and an
// unexpired entry for (tenant, function, key) exists, nothing is written and
// the earlier invocation is returned with created=false; otherwise the
// record, its indexes and the idempotency entry are written in one batch.
func (s *Store) CreateInvocation(inv *Invocation) (_ *Invocation, created bool, err error) {
	got, created, wait, err := s.StartInvocation(inv)
	if err != nil {
		return nil, false, err
	}
	if err := wait(); err != nil {
		return nil, false, err
	}
	return got, created, nil
}

// StartInvocation is CreateInvocation in two steps, for a caller with other durable
// work to overlap with the record's: it returns once the outcome is decided (created,
// or the earlier invocation of the idempotency key), and wait makes the record durable.
// wait must be called exactly once, and the record is durable only when it returns nil.
// On one node the record is readable as soon as StartInvocation returns; in cluster
// mode (Replicated) only after wait.
func (s *Store) StartInvocation(inv *Invocation) (_ *Invocation, created bool, wait func() error, err error) {
	return s.startInvocation(inv, true)
}

// StartInvocationLater is StartInvocation for a record no caller needs on disk before
// its final write: one whose caller hears of the invocation only with its outcome (a
// sync call answered in one body, with no Idempotency-Key to replay). The write makes
// no sync of its own (a sync holds its thread's P, and on one P the run's delivery
// waited for it): the final write's sync takes it to disk, the WAL being one log, and
// wait returns at once. A crash before that forgets an invocation whose id no caller
// had; a caller answered otherwise first gets the record synced (SyncRecords). In
// cluster mode it is StartInvocation.
func (s *Store) StartInvocationLater(inv *Invocation) (_ *Invocation, created bool, wait func() error, err error) {
	return s.startInvocation(inv, false)
}

func (s *Store) startInvocation(inv *Invocation, durable bool) (_ *Invocation, created bool, wait func() error, err error) {
	if err := checkTenant(inv.Tenant); err != nil {
		return nil, false, nil, err
	}
	if err := checkName("function name", inv.Function); err != nil {
		return nil, false, nil, err
	}
	if err := s.space.check("record invocation"); err != nil {
		return nil, false, nil, err
	}
	got, created, wait, err := s.createInvocation(inv, durable)
	if err != nil {
		return nil, false, nil, err
	}
	if !created { // the earlier record may still be on its way to disk
		wait = func() error { return s.SyncRecords("invocation " + got.ID) }
	}
	return got, created, wait, nil
}

// createInvocation is CreateInvocation under the store lock; wait (nil unless created)
// makes the record durable (when durable) and is called after the lock is released.
func (s *Store) createInvocation(inv *Invocation, durable bool) (_ *Invocation, created bool, wait func() error, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inv.IdempotencyKey != "" {
		s.settle(idemKey(inv.Tenant, inv.Function, inv.IdempotencyKey))
		id, ok, err := s.GetIdempotent(inv.Tenant, inv.Function, inv.IdempotencyKey)
		if err != nil {
			return nil, false, nil, err
		}
		if ok {
			s.settle(invKey(inv.Tenant, id))
			prev, err := s.GetInvocation(inv.Tenant, id)
			return prev, false, nil, err
		}
	}
	batch := s.db.NewBatch()
	if err := addInvocation(batch, inv); err != nil {
		batch.Close()
		return nil, false, nil, err
	}
	if inv.IdempotencyKey != "" {
		entry := idemEntry{InvocationID: inv.ID, CreatedAt: inv.CreatedAt}
		if err := setJSON(batch, idemKey(inv.Tenant, inv.Function, inv.IdempotencyKey), entry); err != nil {
			batch.Close()
			return nil, false, nil, err
		}
	}
	keys := [][]byte{invKey(inv.Tenant, inv.ID)}
	if inv.IdempotencyKey != "" {
		keys = append(keys, idemKey(inv.Tenant, inv.Function, inv.IdempotencyKey))
	}
	wait, err = s.commitRecord(batch, "invocation "+inv.ID, durable, keys...)
	if err != nil {
		return nil, false, nil, err
	}
	if s.repl == nil {
		s.open.keep(keys[0], inv.clone())
	}
	return inv, true, wait, nil
}

// addInvocation fills defaults and adds the record and its indexes to batch.
func addInvocation(batch *pebble.Batch, inv *Invocation) error {
	if inv.ID == "" {
		inv.ID = NewInvocationID()
	}
	if inv.CreatedAt.IsZero() {
		inv.CreatedAt = time.Now().UTC()
	}
	if inv.Status == "" {
		inv.Status = invocation.StatusPending
	}
	if !inv.Status.Valid() {
		return fmt.Errorf("invocation status %q: %w", inv.Status, ErrInvalid)
	}
	if err := addOutbox(batch, inv); err != nil { // before the record: it fills the callback's status
		return err
	}
	if err := setJSON(batch, invKey(inv.Tenant, inv.ID), inv); err != nil {
		return err
	}
	if err := batch.Set(statusIdxKey(inv), nil, nil); err != nil {
		return err
	}
	return batch.Set(fnIdxKey(inv), nil, nil)
}

// GetInvocation returns one invocation of tenant.
func (s *Store) GetInvocation(tenant, id string) (*Invocation, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	var inv Invocation
	if err := s.getJSON(invKey(tenant, id), &inv, "invocation "+id); err != nil {
		return nil, err
	}
	return &inv, nil
}

// allowed lists the legal status transitions (same status allowed only for running).
var allowed = map[invocation.Status][]invocation.Status{
	invocation.StatusPending: {invocation.StatusRunning, invocation.StatusSucceeded, invocation.StatusFailed, invocation.StatusTimeout},
	invocation.StatusRunning: {invocation.StatusRunning, invocation.StatusPending, invocation.StatusSucceeded, invocation.StatusFailed, invocation.StatusTimeout},
}

// UpdateInvocation applies change to the stored record and writes it back,
// keeping the status index in step. change may set Status, Output, Error,
// Attempts, Digest… (ID, Tenant, Function and CreatedAt are restored after
// it). The transition must be legal (see invocation.Status), else ErrConflict and
// nothing is written; a record in a final status is never changed again
// (ErrConflict), so a late duplicate result cannot overwrite the first. Entering running sets StartedAt once; entering a final
// status sets FinishedAt and DurationMS (from StartedAt, else CreatedAt).
func (s *Store) UpdateInvocation(tenant, id string, change func(*Invocation) error) (*Invocation, error) {
	inv, wait, err := s.updateInvocation(tenant, id, change)
	if err != nil {
		return nil, err
	}
	if err := wait(); err != nil {
		return nil, err
	}
	return inv, nil
}

// updateInvocation is UpdateInvocation under the store lock; wait makes the change
// durable and is called after the lock is released.
func (s *Store) updateInvocation(tenant, id string, change func(*Invocation) error) (*Invocation, func() error, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := invKey(tenant, id)
	s.settle(k)
	old, err := s.openRecord(tenant, id, k)
	if err != nil {
		return nil, nil, err
	}
	if old.Status.Final() {
		return nil, nil, fmt.Errorf("invocation %s is already %s: %w", id, old.Status, ErrConflict)
	}
	inv := old.clone() // change may modify anything it is given; old stays as stored
	if err := change(inv); err != nil {
		return nil, nil, fmt.Errorf("update invocation %s: %w", id, err)
	}
	inv.ID, inv.Tenant, inv.Function, inv.CreatedAt = old.ID, old.Tenant, old.Function, old.CreatedAt
	if inv.Status != old.Status || inv.Status == invocation.StatusRunning {
		if !transitionOK(old.Status, inv.Status) {
			return nil, nil, fmt.Errorf("invocation %s: %s -> %s not allowed: %w", id, old.Status, inv.Status, ErrConflict)
		}
	}
	now := time.Now().UTC()
	if inv.Status == invocation.StatusRunning && inv.StartedAt == nil {
		inv.StartedAt = &now
	}
	if inv.Status.Final() && inv.FinishedAt == nil {
		inv.FinishedAt = &now
		from := inv.CreatedAt
		if inv.StartedAt != nil {
			from = *inv.StartedAt
		}
		inv.DurationMS = now.Sub(from).Milliseconds()
	}
	batch := s.db.NewBatch()
	err = batch.Delete(statusIdxKey(old), nil)
	if err == nil {
		err = batch.Set(statusIdxKey(inv), nil, nil)
	}
	if err == nil {
		err = setJSON(batch, k, inv)
	}
	if err != nil {
		batch.Close()
		return nil, nil, err
	}
	// Entering running is the one change written lazily: a machine crash that forgets
	// it leaves the record pending, which the reaper resolves like a running one; the
	// record's creation and its final status are durable before they are answered.
	wait, err := s.commitRecord(batch, "invocation "+id, inv.Status != invocation.StatusRunning, k)
	if err != nil {
		s.open.forget(k)
		return nil, nil, err
	}
	if s.repl != nil || inv.Status.Final() {
		s.open.forget(k)
		return inv, wait, nil
	}
	s.open.keep(k, inv)
	return inv.clone(), wait, nil
}

// openRecord returns the record at k as stored, from the open records this store keeps
// (read only) or read from Pebble. The caller holds s.mu.
func (s *Store) openRecord(tenant, id string, k []byte) (*Invocation, error) {
	if rec := s.open.get(k); rec != nil && s.repl == nil {
		return rec, nil
	}
	return s.GetInvocation(tenant, id)
}

func transitionOK(from, to invocation.Status) bool {
	for _, s := range allowed[from] {
		if s == to {
			return true
		}
	}
	return false
}

// InvocationFilter selects invocations for ListInvocations.
type InvocationFilter struct {
	Function string            // only this function ("" any)
	Status   invocation.Status // only this status ("" any)
	Limit    int               // at most this many (default 50, max 1000)
}

// ListInvocations returns the tenant's invocations matching f, newest first.
// It walks the status index when a status is given, else the function index,
// else the records themselves (ids sort by time).
func (s *Store) ListInvocations(tenant string, f InvocationFilter) ([]*Invocation, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	if f.Status != "" && !f.Status.Valid() {
		return nil, fmt.Errorf("status %q is not pending|running|succeeded|failed|timeout: %w", f.Status, ErrInvalid)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 1000)
	out := []*Invocation{}
	add := func(inv *Invocation) bool {
		if (f.Function == "" || inv.Function == f.Function) && (f.Status == "" || inv.Status == f.Status) {
			out = append(out, inv)
		}
		return len(out) < f.Limit
	}
	if f.Status == "" && f.Function == "" {
		err := s.scanPrefix(prefix(tenant, "inv"), true, func(_, v []byte) (bool, error) {
			inv := new(Invocation)
			if err := decode(v, inv, "invocation"); err != nil {
				return false, err
			}
			return add(inv), nil
		})
		return out, err
	}
	idx := prefix(tenant, "invs", "fn", f.Function)
	if f.Status != "" {
		idx = prefix(tenant, "invs", "status", string(f.Status))
	}
	err := s.scanPrefix(idx, true, func(k, _ []byte) (bool, error) {
		inv, err := s.GetInvocation(tenant, string(k[bytes.LastIndexByte(k, '/')+1:]))
		if err != nil {
			return false, err
		}
		return add(inv), nil
	})
	return out, err
}

// ScanStale returns up to limit invocations, across all tenants, that are in
// status and were created before olderThan, oldest first per tenant. The
// reaper uses it to find records stuck in pending or running.
func (s *Store) ScanStale(status invocation.Status, olderThan time.Time, limit int) ([]*Invocation, error) {
	if !status.Valid() {
		return nil, fmt.Errorf("status %q: %w", status, ErrInvalid)
	}
	tenants, err := s.tenants()
	if err != nil {
		return nil, err
	}
	out := []*Invocation{}
	for _, t := range tenants {
		lo := prefix(t, "invs", "status", string(status))
		hi := append(append([]byte(nil), lo...), stamp(olderThan)...)
		err := s.scanRange(lo, hi, false, func(k, _ []byte) (bool, error) {
			inv, err := s.GetInvocation(t, string(k[bytes.LastIndexByte(k, '/')+1:]))
			if err != nil {
				return false, err
			}
			out = append(out, inv)
			return len(out) < limit, nil
		})
		if err != nil || len(out) >= limit {
			return out, err
		}
	}
	return out, nil
}
