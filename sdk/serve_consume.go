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

// consumeHeader is the response header a plugin sends at once on a Consume stream
// whose Subscribe asked for the data plane.
const consumeHeader = "sous-consume"

// Consume serves one Consume stream: Subscribe first, then Credit{n} messages. The
// SDK keeps the credit count and asks the driver's Consumer for at most that many
// deliveries, so the driver never sees credits. When Subscribe asks for it, the data
// plane is offered in the headers; a host that connects sends its credits there and
// gets the deliveries there, and the stream only ties the two lifetimes together.
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
	onStream := func(ctx context.Context) error {
		return s.consume(ctx, sub, st.Recv, st.Send)
	}
	if !sub.GetDataPlane() {
		return onStream(st.Context())
	}
	return serveOffering(st, consumeHeader, listenDataPlane(), func(ctx context.Context, fc *frameConn) error {
		return s.consume(ctx, sub, func() (*messagingpb.ConsumeRequest, error) {
			m := new(messagingpb.ConsumeRequest)
			return m, fc.read(m)
		}, func(d *messagingpb.Delivery) error { return fc.write(d) })
	}, onStream)
}

// consume serves one subscription: credits come from recv, deliveries go to send.
// The driver's Consumer is opened at the first credit (a host on the data plane
// sends none on the stream); it returns when ctx ends or recv fails.
func (s *messagingServer) consume(ctx context.Context, sub *messagingpb.Subscribe,
	recv func() (*messagingpb.ConsumeRequest, error), send func(*messagingpb.Delivery) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cr := &credits{more: make(chan struct{}, 1)}
	go cr.receive(recv, cancel)
	var c Consumer
	for {
		n, ok := cr.wait(ctx)
		if !ok {
			return nil
		}
		if c == nil {
			var err error
			if c, err = s.m.Consume(ctx, subscriptionFromWire(sub)); err != nil {
				return ToStatus(err)
			}
			defer c.Close()
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
			if err := send(deliveryToWire(d)); err != nil {
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
func (c *credits) receive(recv func() (*messagingpb.ConsumeRequest, error), cancel context.CancelFunc) {
	defer cancel()
	for {
		m, err := recv()
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
