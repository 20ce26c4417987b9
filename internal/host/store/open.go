package store

import (
	"bytes"
	"time"
)

// openRecords keeps the open (pending or running) invocation records this store wrote
// last, so the next change of one (running, final) skips reading and decoding it from
// Pebble. Only on one node: in cluster mode records also arrive through the log, and
// nothing is kept. Guarded by Store.mu, which every write of a record holds; a record
// leaves when it becomes final, when a write of it fails, or when UpdateCallback
// rewrites it. Kept records are never handed out: callers get copies.
type openRecords struct {
	m     map[string]*Invocation // by invKey
	bytes int                    // input and output held by m
}

// Bounds: a record with more input and output than openMaxBytes, and one past openMax
// records or openBudget bytes in all, is read from Pebble as before.
const (
	openMax      = 8192
	openMaxBytes = 64 << 10
	openBudget   = 32 << 20
)

// get returns the kept record of key (read only), or nil.
func (o *openRecords) get(key []byte) *Invocation { return o.m[string(key)] }

// keep remembers rec, which the caller no longer modifies, as the record stored at
// key; a final record is forgotten instead.
func (o *openRecords) keep(key []byte, rec *Invocation) {
	o.forget(key)
	size := len(rec.Input) + len(rec.Output)
	if rec.Status.Final() || size > openMaxBytes || len(o.m) >= openMax || o.bytes+size > openBudget {
		return
	}
	if o.m == nil {
		o.m = map[string]*Invocation{}
	}
	o.m[string(key)] = rec
	o.bytes += size
}

// forget drops the record of key.
func (o *openRecords) forget(key []byte) {
	if rec, ok := o.m[string(key)]; ok {
		o.bytes -= len(rec.Input) + len(rec.Output)
		delete(o.m, string(key))
	}
}

// clone returns a copy of inv that shares nothing mutable with it.
func (inv *Invocation) clone() *Invocation {
	c := *inv
	c.Input, c.Output = bytes.Clone(inv.Input), bytes.Clone(inv.Output)
	if inv.Error != nil {
		e := *inv.Error
		c.Error = &e
	}
	c.StartedAt, c.FinishedAt, c.TickAt = cloneTime(inv.StartedAt), cloneTime(inv.FinishedAt), cloneTime(inv.TickAt)
	if inv.Callback != nil {
		cb := *inv.Callback
		cb.NextAt, cb.DeliveredAt = cloneTime(cb.NextAt), cloneTime(cb.DeliveredAt)
		c.Callback = &cb
	}
	return &c
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}
