package broker

import (
	"context"
	"sync"
)

// memQueue is one direction of an in-memory stream: an unbounded FIFO of messages with a
// single reader, ended once with an error (io.EOF for a clean end). Messages queued
// before the end are still read.
type memQueue struct {
	mu     sync.Mutex
	items  []any
	head   int
	end    error
	notify chan struct{} // wakes the reader; one slot, so a push never blocks
}

func newMemQueue() *memQueue { return &memQueue{notify: make(chan struct{}, 1)} }

// push queues m; false once the queue has ended.
func (q *memQueue) push(m any) bool {
	q.mu.Lock()
	if q.end != nil {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, m)
	q.mu.Unlock()
	q.wake()
	return true
}

// close ends the queue with err; the first end wins.
func (q *memQueue) close(err error) {
	q.mu.Lock()
	if q.end == nil {
		q.end = err
	}
	q.mu.Unlock()
	q.wake()
}

func (q *memQueue) wake() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// pop returns the next message, waiting for one; after the last message it returns the
// queue's end, and ctx's error once ctx is done.
func (q *memQueue) pop(ctx context.Context) (any, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q.mu.Lock()
		if q.head < len(q.items) {
			m := q.items[q.head]
			q.items[q.head] = nil
			q.head++
			if q.head == len(q.items) {
				q.items, q.head = q.items[:0], 0
			}
			q.mu.Unlock()
			return m, nil
		}
		end := q.end
		q.mu.Unlock()
		if end != nil {
			return nil, end
		}
		select {
		case <-q.notify:
		case <-ctx.Done():
		}
	}
}
