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
// and a closed consumer is let go within a second even without an enqueue signal. It
// also bounds the time between two claims with upkeep (promoting due delayed tasks,
// reclaiming expired leases): claims in between only lease.
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
	return newConsumer(q, s, sub, lease), nil
}

func newConsumer(q *queue.Queue, s *Server, sub sdk.Subscription, lease time.Duration) *consumer {
	life, stop := context.WithCancel(context.Background())
	return &consumer{q: q, s: s, sub: sub, lease: lease, life: life, stop: stop}
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

	// tenants are the tenants served, as last listed (every tenant's consumer); stale
	// when a claim saw the registry hold another number of them.
	tenants []string
	stale   bool
	// idle: the last claim left every queue served empty, so the next one waits for a
	// wake-up token (a later Enqueue) or wakeAt (a due delayed task or lease expiry)
	// first, instead of claiming nothing.
	idle   bool
	wakeAt time.Time // when the next claim does upkeep: something is due, or maxWait

	// woke is the blocking wait under way, nil when none: it may outlast the Next that
	// began it (a task handed over ends that Next first), and ends with the consumer's
	// life (Close) at the latest after maxWait.
	woke chan woken
	life context.Context
	stop context.CancelFunc
}

// woken is how a blocking wait ended.
type woken struct {
	newTenant bool
	err       error
}

// Next leases up to max tasks, waiting for an enqueue signal (or the next due time)
// while there are none.
func (c *consumer) Next(ctx context.Context, max int) ([]sdk.Delivery, error) {
	back := redisconn.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	down := false
	for {
		var got []sdk.Delivery
		var err error
		if c.idle {
			c.idle = false
			var d *sdk.Delivery
			if d, err = c.wait(ctx); d != nil {
				// The queues had nothing when this wait began: the next Next waits
				// again (a wake-up that came meanwhile ends that wait at once).
				c.idle = true
				return []sdk.Delivery{*d}, ctx.Err() // after ctx, sdk gives it back
			}
		}
		if err == nil {
			got, err = c.claimOnce(ctx, max)
			if len(got) > 0 {
				c.resumed(down)
				return got, nil
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			c.idle = false
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

// Return puts back deliveries claimed for a stream that ended before they were sent,
// so they run at once elsewhere instead of after their lease expires.
func (c *consumer) Return(ctx context.Context, ds []sdk.Delivery) {
	for _, d := range ds {
		if err := c.q.Unlease(ctx, d.Lease.Tenant, d.Lease.TaskID, d.Lease.ID); err != nil {
			c.s.Log.Warn("put back an unsent delivery; it runs again when its lease expires", "task", d.Lease.TaskID, "error", err)
		}
	}
}

// Close ends the consumer's blocking wait, if one is under way, within maxWait.
func (c *consumer) Close() error {
	c.stop()
	return nil
}

// claimOnce leases up to max tasks from each tenant in turn, and sets idle when it
// left every queue it served empty.
func (c *consumer) claimOnce(ctx context.Context, max int) (got []sdk.Delivery, err error) {
	tenants, err := c.served(ctx)
	if err != nil {
		return nil, err
	}
	upkeep := !time.Now().Before(c.wakeAt)
	wake := maxWait
	drained := true
	c.turn++
	for i := range tenants {
		tn := tenants[(i+c.turn)%len(tenants)]
		n := min(max-len(got), c.q.Config().Batch)
		if n <= 0 {
			drained = false
			break
		}
		cl, err := c.q.Claim(ctx, tn, c.sub.Commands, n, c.lease, c.sub.WorkerID, upkeep)
		if err != nil {
			return got, err
		}
		if cl.Wake >= 0 && cl.Wake < wake {
			wake = cl.Wake
		}
		if c.sub.Tenant == "" && cl.Tenants != len(c.tenants) {
			c.stale = true
		}
		drained = drained && len(cl.Tasks) < n
		got = append(got, cl.Tasks...)
	}
	// A consumer whose tenant list went stale claims again at once, with the list read
	// anew (one with no tenants yet waits, and lists them again then).
	c.idle = drained && !(c.stale && len(tenants) > 0)
	if upkeep {
		c.wakeAt = time.Now().Add(wake)
	}
	return got, nil
}

// served returns the tenants to claim from: the subscription's, or every tenant's as
// last listed (listed again when stale).
func (c *consumer) served(ctx context.Context) ([]string, error) {
	if c.sub.Tenant != "" {
		return []string{c.sub.Tenant}, nil
	}
	if c.tenants == nil || c.stale {
		ts, err := c.q.ConsumerTenants(ctx)
		if err != nil {
			return nil, err
		}
		c.tenants, c.stale = ts, len(ts) == 0
	}
	return c.tenants, nil
}

// wait blocks until an enqueue signal, a new tenant (a consumer of every tenant),
// wakeAt, or maxWait, or until an Enqueue of this plugin hands it a task leased to it
// (the delivery; see takers).
func (c *consumer) wait(ctx context.Context) (*sdk.Delivery, error) {
	if c.woke == nil {
		every, tenants := c.sub.Tenant == "", c.tenants
		if !every {
			tenants = []string{c.sub.Tenant}
		}
		woke, d := make(chan woken, 1), time.Until(c.wakeAt)
		go func() {
			newTenant, err := c.q.Wait(c.life, tenants, c.sub.Commands, every, d)
			woke <- woken{newTenant, err}
		}()
		c.woke = woke
	}
	tk := c.s.takers.add(c.sub, queue.Taker{Worker: c.sub.WorkerID, Lease: c.lease})
	select {
	case d := <-tk.got:
		return d, nil
	case w := <-c.woke:
		c.woke = nil
		if w.newTenant {
			c.stale = true
		}
		if !c.s.takers.remove(tk) {
			return <-tk.got, w.err
		}
		return nil, w.err
	case <-ctx.Done():
		if !c.s.takers.remove(tk) {
			return <-tk.got, ctx.Err()
		}
		return nil, ctx.Err()
	}
}
