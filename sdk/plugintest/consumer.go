package plugintest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sous-run/sous/sdk"
)

// Consumer is one open consumer, for suites and plugin tests, over sdk.Consumer (the
// host's client shim). The test grants credits explicitly; Next asks the sdk.Consumer
// for at most the credits granted and not yet delivered, so over the wire the plugin
// holds exactly the test's window.
type Consumer struct {
	t      testing.TB
	c      sdk.Consumer
	wait   time.Duration
	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	more   chan struct{} // signalled by Credit

	mu     sync.Mutex
	window int            // credits granted and not yet delivered
	buf    []sdk.Delivery // delivered and not yet handed out
}

// OpenConsumer subscribes to commands of tenant with a lease, grants credits and
// closes the consumer when the test ends; Next waits at most wait for a delivery.
func OpenConsumer(t testing.TB, m sdk.Messaging, tenant string, commands []string, lease time.Duration, credits int, wait time.Duration) *Consumer {
	t.Helper()
	sub := sdk.Subscription{Commands: commands, Lease: lease, WorkerID: "w-" + randHex(3), Tenant: tenant}
	ctx, cancel := context.WithCancel(context.Background())
	c, err := m.Consume(ctx, sub)
	if err != nil {
		cancel()
		t.Fatalf("Consume: %v", err)
	}
	k := &Consumer{t: t, c: c, wait: wait, ctx: ctx, cancel: cancel, more: make(chan struct{}, 1), window: credits}
	t.Cleanup(k.Close)
	return k
}

// Credit grants n more deliveries.
func (c *Consumer) Credit(n int) {
	c.mu.Lock()
	c.window += n
	c.mu.Unlock()
	select {
	case c.more <- struct{}{}:
	default:
	}
}

// Deliveries hands out every delivery as it comes, for worker goroutines (grant more
// with Credit); the channel is closed when the consumer ends. Do not mix it with Next.
func (c *Consumer) Deliveries() <-chan sdk.Delivery {
	ch := make(chan sdk.Delivery)
	go func() {
		defer close(ch)
		for {
			c.mu.Lock()
			n := c.window
			c.mu.Unlock()
			if n == 0 {
				select {
				case <-c.more:
					continue
				case <-c.ctx.Done():
					return
				}
			}
			ds, err := c.c.Next(c.ctx, n)
			if err != nil {
				return
			}
			c.mu.Lock()
			c.window -= len(ds)
			c.mu.Unlock()
			for _, d := range ds {
				select {
				case ch <- d:
				case <-c.ctx.Done():
					return
				}
			}
		}
	}()
	return ch
}

// take returns the next delivery within wait: ok is false when none came, err when the
// consumer ended.
func (c *Consumer) take(wait time.Duration) (d sdk.Delivery, ok bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.buf) == 0 && c.window > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		ds, err := c.c.Next(ctx, c.window)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return sdk.Delivery{}, false, err
		}
		c.window -= len(ds)
		c.buf = append(c.buf, ds...)
	}
	if len(c.buf) == 0 {
		return sdk.Delivery{}, false, nil
	}
	d = c.buf[0]
	c.buf = c.buf[1:]
	return d, true, nil
}

// Next returns the next delivery, failing the test when none comes within the wait.
func (c *Consumer) Next() sdk.Delivery {
	c.t.Helper()
	c.mu.Lock()
	window := c.window + len(c.buf)
	c.mu.Unlock()
	if window == 0 {
		c.t.Fatalf("Next with no credit granted")
	}
	d, ok, err := c.take(c.wait)
	if err != nil {
		c.t.Fatalf("the consumer ended while a delivery was expected: %v", err)
	}
	if !ok {
		c.t.Fatalf("no delivery within %s", c.wait)
	}
	return d
}

// None asserts that nothing is delivered during d. With no credit outstanding there is
// nothing to ask for, so it only waits: a driver that sends past its credits is caught
// by the suite's Stats checks.
func (c *Consumer) None(d time.Duration, why string) {
	c.t.Helper()
	start := time.Now()
	got, ok, _ := c.take(d)
	if ok {
		c.t.Fatalf("%s: got delivery of task %s (attempt %d)", why, got.Task.ID, got.Task.Attempt)
	}
	time.Sleep(d - time.Since(start))
}

// Close ends the consumer (a worker going away without acking).
func (c *Consumer) Close() {
	c.cancel()
	_ = c.c.Close()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
