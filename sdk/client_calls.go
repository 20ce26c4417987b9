package sdk

import (
	"context"
	"errors"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
	"github.com/sous-run/sous/sdk/telemetry"
)

// Retry delays for opening the Calls data plane after a failed attempt: a plugin
// built before Calls is asked again now and then (it may be replaced by a newer one).
const (
	callsRetry       = time.Second
	callsRetryOldAPI = time.Minute
)

// errNoPlane: the plugin serves Calls but offered no data plane the host can reach
// (a plugin over TCP); the unary calls are as cheap as the stream would be.
var errNoPlane = errors.New("the plugin offered no reachable data plane")

// callPlane is the host's end of a Calls stream's data plane: each call is a Call
// frame answered by the CallReply frame with its id, in any order. One goroutine
// reads the replies and hands each to its caller. Against a unary gRPC call it skips
// the new HTTP/2 stream, its headers and trailers, and the transport's writer and
// reader goroutines on both ends.
type callPlane struct {
	fc     *frameConn
	cancel func()     // ends the stream and the connection
	send   sync.Mutex // one write at a time
	broken chan struct{}

	mu    sync.Mutex
	next  uint64
	calls map[uint64]chan *messagingpb.CallReply
	err   error // why the plane broke; nil while it works
}

// openCalls opens a Calls stream and connects to the data plane it offers.
func openCalls(ctx context.Context, c messagingpb.MessagingClient) (*callPlane, error) {
	sctx, cancel := context.WithCancel(context.Background())
	st, err := c.Calls(sctx)
	if err != nil {
		cancel()
		return nil, FromStatus(err)
	}
	fc, err := awaitOffer(ctx, st, callsHeader, func() error { _, err := st.Recv(); return callsError(err) })
	if err == nil && fc == nil {
		err = errNoPlane
	}
	if err != nil {
		cancel()
		return nil, err
	}
	p := &callPlane{fc: fc, cancel: func() { cancel(); fc.close() }, broken: make(chan struct{}),
		calls: map[uint64]chan *messagingpb.CallReply{}}
	go p.read()
	// The stream carries nothing; its end (the plugin gone) breaks the plane.
	go func() {
		_, err := st.Recv()
		p.fail(callsError(err))
	}()
	return p, nil
}

// callsError is the error of calls on a Calls stream or data plane that ended with err.
func callsError(err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		err = errors.New("the messaging calls stream ended")
	}
	if _, ok := status.FromError(err); !ok {
		err = status.Errorf(codes.Unavailable, "messaging data plane: %v", err)
	}
	return FromStatus(err)
}

// read hands every reply to its caller until the connection breaks.
func (p *callPlane) read() {
	for {
		r := new(messagingpb.CallReply)
		if err := p.fc.read(r); err != nil {
			p.fail(callsError(err))
			return
		}
		p.mu.Lock()
		ch := p.calls[r.GetId()]
		delete(p.calls, r.GetId())
		p.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
}

// fail breaks the plane with err (the first error wins): calls waiting get it and
// the next call opens a new plane.
func (p *callPlane) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return
	}
	p.err = err
	close(p.broken)
	p.cancel()
}

// alive reports whether the plane still takes calls.
func (p *callPlane) alive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err == nil
}

// call sends c and waits for its reply, ctx's end or the plane's break. A reply with
// an error status is returned as that error, decoded as a unary call's would be.
func (p *callPlane) call(ctx context.Context, c *messagingpb.Call) (*messagingpb.CallReply, error) {
	ch := make(chan *messagingpb.CallReply, 1)
	p.mu.Lock()
	if p.err != nil {
		defer p.mu.Unlock()
		return nil, p.err
	}
	p.next++
	c.Id = p.next
	p.calls[c.Id] = ch
	p.mu.Unlock()
	if dl, ok := ctx.Deadline(); ok {
		c.TimeoutMs = max(1, time.Until(dl).Milliseconds()+1)
	}
	c.Trace = telemetry.Carrier(ctx)
	p.send.Lock()
	err := p.fc.write(c)
	p.send.Unlock()
	if err != nil {
		p.fail(callsError(err))
	}
	select {
	case r := <-ch:
		if r.GetCode() != 0 {
			return nil, FromStatus(status.Error(codes.Code(r.GetCode()), r.GetMessage()))
		}
		return r, nil
	case <-p.broken:
		p.mu.Lock()
		defer p.mu.Unlock()
		delete(p.calls, c.Id)
		return nil, p.err
	case <-ctx.Done():
		p.mu.Lock()
		delete(p.calls, c.Id)
		p.mu.Unlock()
		return nil, contextError(ctx)
	}
}

// callsOpener keeps a messaging client's Calls plane: opened in the background on
// first use and again after it breaks; until it is open the client uses the unary
// calls.
type callsOpener struct {
	mu      sync.Mutex
	plane   *callPlane
	opening chan struct{} // closed when the open under way ends; nil when none is
	serves  bool          // the last open reached a plugin that serves Calls
	retryAt time.Time
}

// get returns the open plane, or nil (the caller goes unary) while one is opened.
func (o *callsOpener) get(c messagingpb.MessagingClient) *callPlane {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.plane != nil && o.plane.alive() {
		return o.plane
	}
	o.startLocked(c)
	return nil
}

// served reports whether the plugin serves Calls, and so reads Subscribe.data_plane
// (both came with the same SDK): it waits for an open under way, or for one it starts.
func (o *callsOpener) served(ctx context.Context, c messagingpb.MessagingClient) bool {
	o.mu.Lock()
	o.startLocked(c)
	wait := o.opening
	o.mu.Unlock()
	if wait != nil {
		select {
		case <-wait:
		case <-ctx.Done():
			return false
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.serves
}

// startLocked starts an open unless the plane is open, one is under way, or a failed
// one is too recent. The caller holds o.mu.
func (o *callsOpener) startLocked(c messagingpb.MessagingClient) {
	if (o.plane != nil && o.plane.alive()) || o.opening != nil || time.Now().Before(o.retryAt) {
		return
	}
	o.opening = make(chan struct{})
	go o.open(c)
}

func (o *callsOpener) open(c messagingpb.MessagingClient) {
	ctx, cancel := context.WithTimeout(context.Background(), acceptTimeout)
	defer cancel()
	p, err := openCalls(ctx, c)
	o.mu.Lock()
	defer o.mu.Unlock()
	close(o.opening)
	o.opening, o.plane = nil, p
	o.serves = err == nil || errors.Is(err, errNoPlane)
	switch {
	case errors.Is(err, errUnserved), errors.Is(err, errNoPlane):
		o.retryAt = time.Now().Add(callsRetryOldAPI)
	case err != nil:
		o.retryAt = time.Now().Add(callsRetry)
	}
}

// viaCalls makes one call on the Calls plane when it is open, else as the unary call.
// wrap puts the request in a Call, unwrap takes the response out of its reply.
func viaCalls[Q, R any](ctx context.Context, m *messagingClient, req Q,
	wrap func(*messagingpb.Call, Q), unwrap func(*messagingpb.CallReply) R,
	unary func(context.Context, Q) (R, error)) (R, error) {
	p := m.calls.get(m.c)
	if p == nil {
		r, err := unary(ctx, req)
		return r, FromStatus(err)
	}
	c := &messagingpb.Call{}
	wrap(c, req)
	rep, err := p.call(ctx, c)
	if err != nil {
		var zero R
		return zero, err
	}
	return unwrap(rep), nil
}
