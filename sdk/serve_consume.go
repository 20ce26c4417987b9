package sdk

import (
	"context"
	"errors"
	"io"
	"math"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

// Consume serves one Consume stream: Subscribe first, then Credit{n} messages. The
// SDK keeps the credit count and asks the driver's Consumer for at most that many
// deliveries, so the driver never sees credits.
func (s *messagingServer) Consume(st messagingpb.Messaging_ConsumeServer) error {
	if err := s.ready(); err != nil {
		return err
	}
	first, err := st.Recv()
	if err != nil {
		return err
	}
	sub := first.GetSubscribe()
	if sub == nil {
		return status.Error(codes.InvalidArgument, "consume: the first message must be Subscribe")
	}
	ctx, cancel := context.WithCancel(st.Context())
	defer cancel()
	c, err := s.m.Consume(ctx, subscriptionFromWire(sub))
	if err != nil {
		return ToStatus(err)
	}
	defer c.Close()
	cr := &credits{more: make(chan struct{}, 1)}
	go cr.receive(st, cancel)
	for {
		n, ok := cr.wait(ctx)
		if !ok {
			return nil
		}
		ds, err := c.Next(ctx, n)
		if ctx.Err() != nil || errors.Is(err, io.EOF) {
			giveBack(c, ds)
			return nil
		}
		if err != nil {
			return ToStatus(err)
		}
		for i, d := range ds {
			cr.take()
			if err := st.Send(deliveryToWire(d)); err != nil {
				giveBack(c, ds[i:])
				return err
			}
		}
	}
}

// giveBack returns unsent deliveries to a Consumer that takes them back.
func giveBack(c Consumer, ds []Delivery) {
	r, ok := c.(Returner)
	if !ok || len(ds) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), returnTimeout)
	defer cancel()
	r.Return(ctx, ds)
}

// credits is a Consume stream's flow-control window.
type credits struct {
	mu   sync.Mutex
	n    int64
	more chan struct{} // signalled when credits arrive
}

// receive adds every Credit the host sends; it cancels the stream when the host's
// side ends.
func (c *credits) receive(st messagingpb.Messaging_ConsumeServer, cancel context.CancelFunc) {
	defer cancel()
	for {
		m, err := st.Recv()
		if err != nil {
			return
		}
		if cr := m.GetCredit(); cr != nil && cr.N > 0 {
			c.mu.Lock()
			c.n += int64(cr.N)
			c.mu.Unlock()
			select {
			case c.more <- struct{}{}:
			default:
			}
		}
	}
}

// wait blocks until credits are positive and returns them; false when ctx ends.
func (c *credits) wait(ctx context.Context) (int, bool) {
	for {
		c.mu.Lock()
		n := c.n
		c.mu.Unlock()
		if n > 0 {
			return int(min(n, math.MaxInt32)), true
		}
		select {
		case <-ctx.Done():
			return 0, false
		case <-c.more:
		}
	}
}

func (c *credits) take() { c.mu.Lock(); c.n--; c.mu.Unlock() }
