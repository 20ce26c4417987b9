package status

import (
	"sort"
	"sync"
	"time"
)

// Board keeps the last heartbeat of each worker process. A worker silent for three
// heartbeat intervals is dropped.
type Board struct {
	ttl time.Duration
	mu  sync.Mutex
	by  map[string]Process
}

// NewBoard returns a board for workers that beat every interval.
func NewBoard(interval time.Duration) *Board {
	return &Board{ttl: 3 * interval, by: map[string]Process{}}
}

// Put records a heartbeat.
func (b *Board) Put(p Process) {
	p.LastSeen = time.Now().UTC()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.by[p.ID] = p
}

// Live returns the workers heard from within the TTL, by id.
func (b *Board) Live() []Process {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []Process{}
	for id, p := range b.by {
		if time.Since(p.LastSeen) > b.ttl {
			delete(b.by, id)
			continue
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
