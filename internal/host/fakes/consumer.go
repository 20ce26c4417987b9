package fakes

import (
	"context"
	"fmt"

	"github.com/sous-run/sous/sdk"
)

// Consumer is the fake queue's consumer. It records the largest max it was asked for.
// It honours the contract: Next never returns more than max deliveries.
type Consumer struct {
	m     *Messaging
	sub   sdk.Subscription
	ctx   context.Context // Consume's: the consumer ends with it
	err   error           // set by Break or Close
	asked int             // the largest max passed to Next (guarded by the queue's lock)
	ended chan struct{}   // closed with err
}

var _ sdk.Ender = (*Consumer)(nil)

// Ended is closed when the consumer is broken or closed.
func (c *Consumer) Ended() <-chan struct{} { return c.ended }

// stop ends the consumer with err; the caller holds the queue's lock.
func (c *Consumer) stop(err error) {
	if c.err == nil {
		c.err = err
		close(c.ended)
	}
}

// Next claims up to n pending tasks, waiting for at least one.
func (c *Consumer) Next(ctx context.Context, n int) ([]sdk.Delivery, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: max %d", sdk.ErrInvalid, n)
	}
	m := c.m
	for {
		m.mu.Lock()
		c.asked = max(c.asked, n)
		if c.err != nil {
			err := c.err
			m.mu.Unlock()
			return nil, err
		}
		if ds := m.claim(c.sub, n); len(ds) > 0 {
			m.mu.Unlock()
			return ds, nil
		}
		wake := m.wake
		m.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.ctx.Done():
			return nil, c.ctx.Err()
		}
	}
}

// Close ends the consumer.
func (c *Consumer) Close() error {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	c.stop(sdk.ErrConsumerClosed)
	c.m.notify()
	return nil
}
