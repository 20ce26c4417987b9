package broker

import (
	"context"
	"sync"
)

// outbox sends a stream's events in order from one goroutine, each only after the store
// changes it reports are durable; a failed commit or send ends the stream.
type outbox[T any] struct {
	mu     sync.Mutex
	cond   *sync.Cond
	queue  []outItem[T]
	ctx    context.Context
	failed error
}

type outItem[T any] struct {
	ev    T
	waits []<-chan error
}

func newOutbox[T any](ctx context.Context, send func(T) error) *outbox[T] {
	o := &outbox[T]{ctx: ctx}
	o.cond = sync.NewCond(&o.mu)
	go func() {
		<-ctx.Done()
		o.mu.Lock()
		o.cond.Broadcast()
		o.mu.Unlock()
	}()
	go o.run(send)
	return o
}

// send queues ev behind every earlier event; nil waits are ignored.
func (o *outbox[T]) send(ev T, waits ...<-chan error) {
	o.mu.Lock()
	o.queue = append(o.queue, outItem[T]{ev, waits})
	o.cond.Signal()
	o.mu.Unlock()
}

func (o *outbox[T]) run(send func(T) error) {
	for {
		o.mu.Lock()
		for len(o.queue) == 0 && o.ctx.Err() == nil {
			o.cond.Wait()
		}
		if o.ctx.Err() != nil {
			o.mu.Unlock()
			return
		}
		it := o.queue[0]
		o.queue = o.queue[1:]
		o.mu.Unlock()
		for _, w := range it.waits {
			if w == nil {
				continue
			}
			if err := <-w; err != nil {
				o.fail(err)
				return
			}
		}
		if err := send(it.ev); err != nil {
			o.fail(err)
			return
		}
	}
}

func (o *outbox[T]) fail(err error) {
	o.mu.Lock()
	o.failed = err
	o.mu.Unlock()
}

// err returns the outbox's failure if any, else fallback.
func (o *outbox[T]) err(fallback error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failed != nil {
		return o.failed
	}
	return fallback
}
