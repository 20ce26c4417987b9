package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

var _ Ender = (*wireConsumer)(nil)

// wireConsumer is a Consumer over a Consume stream. Next grants credits so that the
// deliveries granted but not yet handed out make up its max again once half of it is
// used; a receiving goroutine buffers what the plugin sends.
type wireConsumer struct {
	stream consumeStream
	cancel context.CancelFunc
	wake   chan struct{} // signalled when buf or err changes
	ended  chan struct{} // closed when receive returns

	sendMu sync.Mutex // one Send at a time

	mu      sync.Mutex
	pending int        // credits granted and not yet used by the plugin
	buf     []Delivery // received and not yet handed out
	err     error      // why the stream ended
}

// consumeStream is where credits and deliveries travel: the Consume stream or the
// data plane.
type consumeStream interface {
	Send(*messagingpb.ConsumeRequest) error
	Recv() (*messagingpb.Delivery, error)
}

// consumeFrames is the host's end of a Consume stream's data plane. Its Recv ends
// with the stream's status once the connection ends (the plugin ends both together).
type consumeFrames struct {
	fc     *frameConn
	stream grpc.BidiStreamingClient[messagingpb.ConsumeRequest, messagingpb.Delivery]
}

func (f consumeFrames) Send(m *messagingpb.ConsumeRequest) error { return f.fc.write(m) }

func (f consumeFrames) Recv() (*messagingpb.Delivery, error) {
	d := new(messagingpb.Delivery)
	if err := f.fc.read(d); err != nil {
		f.fc.close()
		if _, serr := f.stream.Recv(); serr != nil && !errors.Is(serr, io.EOF) {
			return nil, serr
		}
		return nil, status.Errorf(codes.Unavailable, "consume data plane: %v", err)
	}
	return d, nil
}

// receive buffers deliveries until the stream ends.
func (c *wireConsumer) receive() {
	defer close(c.ended)
	for {
		d, err := c.stream.Recv()
		c.mu.Lock()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the plugin ended the consume stream")
			}
			c.err = FromStatus(err)
		} else {
			c.pending--
			c.buf = append(c.buf, deliveryFromWire(d))
		}
		c.mu.Unlock()
		select {
		case c.wake <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// Next tops the credits up to max once half of max or less is left granted (none, for
// max 1), waits for at least one delivery and returns up to max of those buffered.
// Deliveries buffered when the stream broke come out before its error.
//
// Topping up at every call sent a credit per delivery, just after the plugin sent the
// delivery and went idle: one wake-up of the plugin per invocation for credits it did
// not need yet (a worker asks for its free slots, and holds most of them granted).
func (c *wireConsumer) Next(ctx context.Context, max int) ([]Delivery, error) {
	if max < 1 {
		return nil, fmt.Errorf("%w: Next(max=%d): max must be at least 1", ErrInvalid, max)
	}
	c.mu.Lock()
	n := max - c.pending - len(c.buf)
	if c.pending+len(c.buf) > max/2 {
		n = 0
	}
	if n > 0 && c.err == nil {
		c.pending += n
	}
	stopped := c.err != nil
	c.mu.Unlock()
	if n > 0 && !stopped {
		// Sent without the lock: receiving must go on while a send waits for the wire.
		c.sendMu.Lock()
		err := c.stream.Send(&messagingpb.ConsumeRequest{Msg: &messagingpb.ConsumeRequest_Credit{Credit: &messagingpb.Credit{N: int32(n)}}})
		c.sendMu.Unlock()
		if err != nil && !errors.Is(err, io.EOF) { // EOF: Recv has the stream's error
			return nil, fmt.Errorf("grant credits: %w", FromStatus(err))
		}
	}
	for {
		c.mu.Lock()
		if len(c.buf) > 0 {
			n := min(max, len(c.buf))
			out := c.buf[:n:n]
			c.buf = c.buf[n:]
			c.mu.Unlock()
			return out, nil
		}
		err := c.err
		c.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-c.wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Ended is closed when the stream has ended.
func (c *wireConsumer) Ended() <-chan struct{} { return c.ended }

// Close ends the stream; deliveries not handed out are left to their leases.
func (c *wireConsumer) Close() error {
	c.cancel()
	<-c.ended
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = nil
	c.err = ErrConsumerClosed
	return nil
}
