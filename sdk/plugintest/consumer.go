package plugintest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

// Consumer is one open Consume stream, for suites and plugin tests.
type Consumer struct {
	t      testing.TB
	stream messagingpb.Messaging_ConsumeClient
	ch     chan *messagingpb.Delivery
	cancel context.CancelFunc
	wait   time.Duration
	sendMu sync.Mutex // Credit may be called from several goroutines
}

// OpenConsumer subscribes to commands of tenant with a lease (seconds), grants credits
// and closes the stream when the test ends; Next waits at most wait for a delivery.
func OpenConsumer(t testing.TB, m messagingpb.MessagingClient, tenant string, commands []string, lease int32, credits int32, wait time.Duration) *Consumer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := m.Consume(ctx)
	if err != nil {
		cancel()
		t.Fatalf("Consume: %v", err)
	}
	c := &Consumer{t: t, stream: st, ch: make(chan *messagingpb.Delivery, 1024), cancel: cancel, wait: wait}
	t.Cleanup(c.Close)
	sub := &messagingpb.Subscribe{Commands: commands, LeaseSeconds: lease, WorkerId: "w-" + randHex(3), Tenant: tenant}
	if err := st.Send(&messagingpb.ConsumeRequest{Msg: &messagingpb.ConsumeRequest_Subscribe{Subscribe: sub}}); err != nil {
		t.Fatalf("send Subscribe: %v", err)
	}
	go func() {
		defer close(c.ch)
		for {
			d, err := st.Recv()
			if err != nil {
				return
			}
			c.ch <- d
		}
	}()
	if credits > 0 {
		c.Credit(credits)
	}
	return c
}

// Credit grants n more deliveries.
func (c *Consumer) Credit(n int32) {
	c.t.Helper()
	if err := c.Grant(n); err != nil {
		c.t.Fatalf("send Credit{%d}: %v", n, err)
	}
}

// Grant is Credit for a worker goroutine: it returns the error instead of failing the
// test (the stream may end with the test).
func (c *Consumer) Grant(n int32) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	return c.stream.Send(&messagingpb.ConsumeRequest{Msg: &messagingpb.ConsumeRequest_Credit{Credit: &messagingpb.Credit{N: n}}})
}

// Deliveries is every delivery as it comes, for a worker goroutine; it is closed when
// the stream ends. Do not mix it with Next.
func (c *Consumer) Deliveries() <-chan *messagingpb.Delivery { return c.ch }

// Next returns the next delivery, failing the test when none comes within the wait.
func (c *Consumer) Next() *messagingpb.Delivery {
	c.t.Helper()
	select {
	case d, ok := <-c.ch:
		if !ok {
			c.t.Fatalf("Consume stream ended while a delivery was expected")
		}
		return d
	case <-time.After(c.wait):
		c.t.Fatalf("no delivery within %s", c.wait)
	}
	return nil
}

// None asserts that nothing is delivered during d.
func (c *Consumer) None(d time.Duration, why string) {
	c.t.Helper()
	select {
	case got, ok := <-c.ch:
		if ok {
			c.t.Fatalf("%s: got delivery of task %s (attempt %d)", why, got.Task.GetId(), got.Task.GetAttempt())
		}
	case <-time.After(d):
	}
}

// Close ends the stream (a worker going away without acking).
func (c *Consumer) Close() {
	c.cancel()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
