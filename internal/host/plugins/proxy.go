package plugins

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/sdk/telemetry"
)

// proxy is a grpc.ClientConnInterface that forwards every call to the instance's
// current connection, so clients built on it survive restarts. While the plugin is
// down calls fail at once with Unavailable "plugin <name> is restarting: <reason>";
// calls cut by the plugin's exit fail with Unavailable "plugin <name> exited: …".
type proxy struct{ i *instance }

var _ grpc.ClientConnInterface = (*proxy)(nil)

// Invoke forwards a unary call.
func (p *proxy) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	ctx = telemetry.Outgoing(ctx)
	c, exited, err := p.i.current()
	if err != nil {
		return err
	}
	return p.i.explain(ctx, c.Conn.GetState, exited, c.Conn.Invoke(ctx, method, args, reply, opts...))
}

// NewStream forwards a streaming call; errors on the stream are explained the same way.
func (p *proxy) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	ctx = telemetry.Outgoing(ctx)
	c, exited, err := p.i.current()
	if err != nil {
		return nil, err
	}
	s, err := c.Conn.NewStream(ctx, desc, method, opts...)
	if err != nil {
		return nil, p.i.explain(ctx, c.Conn.GetState, exited, err)
	}
	return &stream{ClientStream: s, ctx: ctx, i: p.i, state: c.Conn.GetState, exited: exited}, nil
}

type stream struct {
	grpc.ClientStream
	ctx    context.Context
	i      *instance
	state  func() connectivity.State
	exited chan struct{}
}

func (s *stream) SendMsg(m any) error {
	return s.i.explain(s.ctx, s.state, s.exited, s.ClientStream.SendMsg(m))
}

func (s *stream) RecvMsg(m any) error {
	return s.i.explain(s.ctx, s.state, s.exited, s.ClientStream.RecvMsg(m))
}

// explain turns a transport failure caused by the plugin's exit into
// "plugin <name> exited". A transport error shows as Unavailable with the connection
// no longer ready; the exit is then noticed within a poll interval, so it waits for it
// briefly (longer when the connection is clearly broken).
func (i *instance) explain(ctx context.Context, state func() connectivity.State, exited chan struct{}, err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return err
	}
	// Canceled without a cancelled context is the connection being closed under the call.
	closing := status.Code(err) == codes.Canceled && ctx.Err() == nil
	if status.Code(err) != codes.Unavailable && !closing {
		return err
	}
	wait := 100 * time.Millisecond
	if closing || state() != connectivity.Ready {
		wait = 2 * time.Second
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-exited:
		return status.Errorf(codes.Unavailable, "plugin %s exited: %s", i.name, status.Convert(err).Message())
	case <-t.C:
	case <-ctx.Done():
	}
	return err
}
