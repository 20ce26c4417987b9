package sdk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// batcher sends the calls of one kind that wait behind an earlier one as one call:
// a lone call goes at once, as it would alone; under load the calls that queue while
// a group is on its way leave together when it returns. There is no timer, so a
// single caller's latency is untouched, and the groups grow with the load (each one
// costs the plugin, and its backend, one round trip instead of one per call).
type batcher[I, O any] struct {
	// one sends a lone item; many sends a group (two or more) and returns one result
	// per item, or one error for the whole call.
	one  func(ctx context.Context, in I) (O, error)
	many func(ctx context.Context, ins []I) ([]O, []error, error)

	mu       sync.Mutex
	queue    []*batchCall[I, O]
	busy     bool // a group is on its way; the calls that come meanwhile queue
	unserved bool // the plugin refused a group (built before batches): one by one
}

// maxBatch bounds one group: a burst leaves in several calls, so no single call (its
// frame, the driver's pipeline, the reply) grows with the burst.
const maxBatch = 128

// errShortBatch: a batch was answered with fewer results than it had items.
var errShortBatch = fmt.Errorf("%w: a batch was answered with fewer results than items", ErrInternal)

type batchCall[I, O any] struct {
	ctx  context.Context
	in   I
	out  O
	err  error
	done chan struct{}
}

// do sends in, alone or with the calls waiting beside it, and returns its result.
func (b *batcher[I, O]) do(ctx context.Context, in I) (O, error) {
	c := &batchCall[I, O]{ctx: ctx, in: in, done: make(chan struct{})}
	b.mu.Lock()
	if b.unserved {
		b.mu.Unlock()
		return b.one(ctx, in)
	}
	b.queue = append(b.queue, c)
	if !b.busy { // nothing on its way: this call goes now, with whatever queued
		b.busy = true
		group := b.queue
		b.queue = nil
		b.mu.Unlock()
		b.send(group)
		b.handOn()
		return c.out, c.err
	}
	b.mu.Unlock()
	select {
	case <-c.done:
		return c.out, c.err
	case <-ctx.Done(): // it may still go, as a call that timed out may have arrived
		var zero O
		return zero, contextError(ctx)
	}
}

// handOn sends what queued while a group was on its way, in the background (the
// caller that sent the group returns), maxBatch at a time, until the queue is empty.
func (b *batcher[I, O]) handOn() {
	b.mu.Lock()
	group := b.queue[:min(len(b.queue), maxBatch)]
	b.queue = b.queue[len(group):]
	if len(group) == 0 {
		b.busy = false
		b.mu.Unlock()
		return
	}
	b.mu.Unlock()
	go func() {
		b.send(group)
		b.handOn()
	}()
}

// send makes the group's call and settles every call in it.
func (b *batcher[I, O]) send(group []*batchCall[I, O]) {
	live := group[:0:0]
	for _, c := range group {
		if c.ctx.Err() != nil { // its caller has gone: not sent
			c.err = contextError(c.ctx)
			close(c.done)
			continue
		}
		live = append(live, c)
	}
	switch {
	case len(live) == 0:
		return
	case len(live) == 1:
		c := live[0]
		c.out, c.err = b.one(c.ctx, c.in)
		close(c.done)
		return
	}
	ctx, cancel := groupContext(live)
	defer cancel()
	ins := make([]I, len(live))
	for i, c := range live {
		ins[i] = c.in
	}
	outs, errs, err := b.many(ctx, ins)
	if errors.Is(err, ErrUnsupported) { // a plugin built before batches
		b.mu.Lock()
		b.unserved = true
		b.mu.Unlock()
		b.sendEach(live)
		return
	}
	for i, c := range live {
		switch {
		case err != nil:
			c.err = err
		case i >= len(outs) || i >= len(errs):
			c.err = errShortBatch
		default:
			c.out, c.err = outs[i], errs[i]
		}
		close(c.done)
	}
}

// sendEach sends the group's calls one by one, all at once.
func (b *batcher[I, O]) sendEach(group []*batchCall[I, O]) {
	eachAtOnce(len(group), func(i int) {
		c := group[i]
		c.out, c.err = b.one(c.ctx, c.in)
		close(c.done)
	})
}

// eachAtOnce runs do(0) … do(n-1) at once and returns when all have.
func eachAtOnce(n int, do func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			do(i)
		}()
	}
	wg.Wait()
}

// oneByOne is a group's results from sending each item alone, all at once (a plugin
// without the batch call, or a plane not open yet).
func oneByOne[I, O any](ctx context.Context, ins []I, one func(context.Context, I) (O, error)) ([]O, []error, error) {
	outs, errs := make([]O, len(ins)), make([]error, len(ins))
	eachAtOnce(len(ins), func(i int) { outs[i], errs[i] = one(ctx, ins[i]) })
	return outs, errs, nil
}

// groupContext is the context of a group's call: it carries the first caller's values
// (its trace), is not ended by any one caller leaving, and ends at the latest of
// their deadlines (none when one of them has none).
func groupContext[I, O any](group []*batchCall[I, O]) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, c := range group {
		dl, ok := c.ctx.Deadline()
		if !ok {
			return context.WithCancel(context.WithoutCancel(group[0].ctx))
		}
		if dl.After(latest) {
			latest = dl
		}
	}
	return context.WithDeadline(context.WithoutCancel(group[0].ctx), latest)
}
