package server

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/internal/redisconn"
	"github.com/sous-run/sous/plugins/messaging-redis/queue"
	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

// maxWait bounds one blocking wait, so expired leases and due delayed tasks are noticed
// and a closed stream is let go within a second even without an enqueue signal.
const maxWait = time.Second

// credits is the flow-control window: deliveries may be sent only while it is positive.
type credits struct {
	mu     sync.Mutex
	n      int64
	notify chan struct{}
}

func (c *credits) add(n int32) {
	c.mu.Lock()
	c.n += int64(n)
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (c *credits) take() { c.mu.Lock(); c.n--; c.mu.Unlock() }

func (c *credits) get() int64 { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// Consume streams leased tasks to one worker: Subscribe first, then Credit{n} for each
// n free slots; never more deliveries than credits granted.
func (s *Server) Consume(stream messagingpb.Messaging_ConsumeServer) error {
	q, err := s.queue()
	if err != nil {
		return err
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	sub := first.GetSubscribe()
	if err := checkSubscribe(sub); err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	lease := time.Duration(sub.LeaseSeconds) * time.Second
	if lease <= 0 {
		lease = q.Config().Lease.D()
	}
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	cr := &credits{notify: make(chan struct{}, 1)}
	go func() {
		defer cancel()
		for {
			m, err := stream.Recv()
			if err != nil {
				return
			}
			if c := m.GetCredit(); c != nil && c.N > 0 {
				cr.add(c.N)
			}
		}
	}()
	c := &consumer{q: q, s: s, stream: stream, sub: sub, lease: lease, cr: cr}
	return c.run(ctx)
}

func checkSubscribe(sub *messagingpb.Subscribe) error {
	if sub == nil {
		return fmt.Errorf("the first Consume message must be Subscribe")
	}
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

type consumer struct {
	q      *queue.Queue
	s      *Server
	stream messagingpb.Messaging_ConsumeServer
	sub    *messagingpb.Subscribe
	lease  time.Duration
	cr     *credits
	turn   int
}

func (c *consumer) run(ctx context.Context) error {
	back := redisconn.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	down := false
	for {
		for c.cr.get() <= 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-c.cr.notify:
			}
		}
		sent, wake, tenants, err := c.claimOnce(ctx)
		if err == nil && sent == 0 {
			err = c.wait(ctx, tenants, wake)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if !redisconn.IsConnErr(err) {
				return grpcErr(err)
			}
			if !down {
				c.s.log.Warn("redis unavailable; consumer retrying with backoff", "worker", c.sub.WorkerId, "error", err)
				down = true
			}
			redisconn.Sleep(ctx, back.Next())
			continue
		}
		if down {
			c.s.log.Info("redis back; consumer resumed", "worker", c.sub.WorkerId)
			down = false
		}
		back.Reset()
	}
}

// claimOnce leases up to the free credits from each tenant in turn and sends them.
func (c *consumer) claimOnce(ctx context.Context) (sent int, wake time.Duration, tenants []string, err error) {
	tenants = []string{c.sub.Tenant}
	if c.sub.Tenant == "" {
		if tenants, err = c.q.Tenants(ctx); err != nil {
			return 0, 0, nil, err
		}
	}
	wake = maxWait
	c.turn++
	for i := range tenants {
		tn := tenants[(i+c.turn)%len(tenants)]
		n := min(c.cr.get(), int64(c.q.Config().Batch))
		if n <= 0 {
			break
		}
		leases, w, err := c.q.Claim(ctx, tn, c.sub.Commands, int(n), c.lease, c.sub.WorkerId)
		if err != nil {
			return sent, 0, tenants, err
		}
		if w >= 0 && w < wake {
			wake = w
		}
		for _, l := range leases {
			c.cr.take()
			d := &messagingpb.Delivery{Task: l.Task, LeaseId: l.LeaseID, LeaseExpiresMs: l.ExpiresMs}
			if err := c.stream.Send(d); err != nil {
				// The lease stays; it expires and the task is redelivered.
				return sent, 0, tenants, fmt.Errorf("send %s: %w", l.Task.Id, err)
			}
			sent++
		}
	}
	return sent, wake, tenants, nil
}

// wait blocks until an enqueue signal, the next due time, or maxWait.
func (c *consumer) wait(ctx context.Context, tenants []string, wake time.Duration) error {
	if len(tenants) == 0 {
		redisconn.Sleep(ctx, wake)
		return nil
	}
	return c.q.Wait(ctx, tenants, c.sub.Commands, wake)
}
