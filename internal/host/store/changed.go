package store

import "sync"

// broadcast is a channel closed at the next fire; each fire starts a new one.
type broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns the channel the next fire closes.
func (b *broadcast) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

// fire wakes everyone waiting.
func (b *broadcast) fire() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}

// FunctionsChanged returns a channel closed when a function is next deployed for the
// first time (or again after a delete) through this store: the set DeployedFunctions
// lists has grown. Writes replicated from another node do not fire it.
func (s *Store) FunctionsChanged() <-chan struct{} { return s.fnAdded.wait() }
