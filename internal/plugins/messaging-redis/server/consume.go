package server

import (
	"context"
	"fmt"
	"time"

	"github.com/sous-run/sous/internal/plugins/messaging-redis/queue"
	"github.com/sous-run/sous/internal/redisconn"
	"github.com/sous-run/sous/sdk"
)

// maxWait bounds one blocking wait, so expired leases and due delayed tasks are noticed
// and a closed consumer is let go within a second even without an enqueue signal.
const maxWait = time.Second

// Consume opens a consumer of the subscription's commands (every tenant's when
// Tenant is empty).
func (s *Server) Consume(_ context.Context, sub sdk.Subscription) (sdk.Consumer, error) {
	if err := checkSubscribe(sub); err != nil {
		return nil, sdk.WithKind(sdk.ErrInvalid, err)
	}
	q := s.queue()
	lease := sub.Lease
	if lease <= 0 {
		lease = q.Config().Lease.D()
	}
	return &consumer{q: q, s: s, sub: sub, lease: lease}, nil
}

func checkSubscribe(sub sdk.Subscription) error {
	if len(sub.Commands) == 0 {
		return fmt.Errorf("subscribe lists no commands: name the queues to consume")
	}
	for _, c := range sub.Commands {
		if err := redisconn.CheckSegment("command", c); err != nil {
			return err
		}
	}
	if sub.Tenant != "" {
		if err := redisconn.CheckSegment("tenant", sub.Tenant); err != nil {
			return err
		}
	}
	return nil
}

// consumer leases tasks for one worker; it rides out Redis outages with backoff.
type consumer struct {
	q     *queue.Queue
	s     *Server
	sub   sdk.Subscription
	lease time.Duration
	turn  int
}

// Next leases up to max tasks, waiting for an enqueue signal (or the next due time)
// while there are none.
func (c *consumer) Next(ctx context.Context, max int) ([]sdk.Delivery, error) {
	back := redisconn.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	down := false
	for {
		got, wake, tenants, err := c.claimOnce(ctx, max)
		if len(got) > 0 {
			c.resumed(down)
			return got, nil
		}
		if err == nil {
			err = c.wait(ctx, tenants, wake)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			if !redisconn.IsConnErr(err) {
				return nil, redisconn.Classify(err)
			}
			if !down {
				c.s.Log.Warn("redis unavailable; consumer retrying with backoff", "worker", c.sub.WorkerID, "error", err)
				down = true
			}
			redisconn.Sleep(ctx, back.Next())
			continue
		}
		c.resumed(down)
		down = false
		back.Reset()
	}
}

func (c *consumer) resumed(down bool) {
	if down {
		c.s.Log.Info("redis back; consumer resumed", "worker", c.sub.WorkerID)
	}
}

// Close ends nothing: a consumer holds no resources between calls.
func (c *consumer) Close() error { return nil }

// claimOnce leases up to max tasks from each tenant in turn.
func (c *consumer) claimOnce(ctx context.Context, max int) (got []sdk.Delivery, wake time.Duration, tenants []string, err error) {
	tenants = []string{c.sub.Tenant}
	if c.sub.Tenant == "" {
		if tenants, err = c.q.Tenants(ctx); err != nil {
			return nil, 0, nil, err
		}
	}
	wake = maxWait
	c.turn++
	for i := range tenants {
		tn := tenants[(i+c.turn)%len(tenants)]
		n := min(max-len(got), c.q.Config().Batch)
		if n <= 0 {
			break
		}
		ds, w, err := c.q.Claim(ctx, tn, c.sub.Commands, n, c.lease, c.sub.WorkerID)
		if err != nil {
			return got, 0, tenants, err
		}
		if w >= 0 && w < wake {
			wake = w
		}
		got = append(got, ds...)
	}
	return got, wake, tenants, nil
}

// wait blocks until an enqueue signal, the next due time, or maxWait.
func (c *consumer) wait(ctx context.Context, tenants []string, wake time.Duration) error {
	if len(tenants) == 0 {
		redisconn.Sleep(ctx, wake)
		return nil
	}
	return c.q.Wait(ctx, tenants, c.sub.Commands, wake)
}
