package store

import (
	"bytes"
	"maps"
	"sync"

	"github.com/cockroachdb/pebble"
)

// catalog caches the decoded function and version records, which every invocation
// reads (resolve its ref, label its final record) and which change only on deploy,
// alias and delete. Every batch that touches a function or version key clears it once
// it is applied, whichever path wrote it (commit, the cluster's ApplyReplicated,
// Restore); a read that began before a clear does not fill it (gen). Cached records
// are shared and never modified: callers outside the store get copies.
type catalog struct {
	mu   sync.RWMutex
	gen  uint64 // bumped by every clear
	fns  map[fnID]*Function
	vers map[verID]*Version
}

type fnID struct{ tenant, name string }

type verID struct {
	tenant, name string
	n            int
}

// catalogMax bounds each map; a full map is emptied (deploys are rare, reads refill it).
const catalogMax = 4096

// function returns the cached function, or the generation a read from disk must
// present to fill it.
func (c *catalog) function(id fnID) (*Function, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.fns[id], c.gen
}

// version is function for a version.
func (c *catalog) version(id verID) (*Version, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.vers[id], c.gen
}

// putFunction caches f, read from disk at generation gen, unless a clear came since.
func (c *catalog) putFunction(id fnID, f *Function, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen {
		c.fns = bounded(c.fns, id, f)
	}
}

// putVersion is putFunction for a version.
func (c *catalog) putVersion(id verID, v *Version, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen {
		c.vers = bounded(c.vers, id, v)
	}
}

// bounded sets m[k] = v in m, or in a new map when m is nil or full (catalogMax).
func bounded[K comparable, V any](m map[K]V, k K, v V) map[K]V {
	if m == nil || len(m) >= catalogMax {
		m = map[K]V{}
	}
	m[k] = v
	return m
}

// clear forgets everything and fails the fills of reads under way.
func (c *catalog) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.fns, c.vers = nil, nil
}

// clearFor clears the catalog when the batch repr writes a function or version key.
func (c *catalog) clearFor(repr []byte) {
	if touchesCatalog(repr) {
		c.clear()
	}
}

// touchesCatalog reports whether a Pebble batch repr writes a function or version key
// (<t>/fn/… or <t>/ver/…); a range operation or an unreadable batch counts as one.
func touchesCatalog(repr []byte) bool {
	r, _ := pebble.ReadBatch(repr)
	for {
		kind, k, _, ok, err := r.Next()
		if err != nil {
			return true
		}
		if !ok {
			return false
		}
		switch kind {
		case pebble.InternalKeyKindLogData:
		case pebble.InternalKeyKindSet, pebble.InternalKeyKindDelete, pebble.InternalKeyKindSingleDelete,
			pebble.InternalKeyKindMerge, pebble.InternalKeyKindSetWithDelete, pebble.InternalKeyKindDeleteSized:
			if catalogKey(k) {
				return true
			}
		default:
			return true
		}
	}
}

// catalogKey reports whether k is a function or version key.
func catalogKey(k []byte) bool {
	i := bytes.IndexByte(k, '/')
	if i < 0 {
		return false
	}
	rest := k[i+1:]
	return bytes.HasPrefix(rest, []byte("fn/")) || bytes.HasPrefix(rest, []byte("ver/"))
}

// clone returns a copy of f that shares nothing mutable with it.
func (f *Function) clone() *Function {
	c := *f
	c.Aliases = maps.Clone(f.Aliases)
	if f.DeletedAt != nil {
		t := *f.DeletedAt
		c.DeletedAt = &t
	}
	return &c
}

// clone returns a copy of v that shares nothing mutable with it.
func (v *Version) clone() *Version {
	c := *v
	c.Vars = maps.Clone(v.Vars)
	c.InputSchema = bytes.Clone(v.InputSchema)
	return &c
}
