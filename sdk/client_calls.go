package sdk

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

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

// callMsg and replyMsg are a service's Call and CallReply (messaging, events).
type callMsg interface {
	proto.Message
	GetTimeoutMs() int64
	GetTrace() map[string]string
}

type replyMsg interface {
	proto.Message
	GetId() uint64
	GetCode() int32
	GetMessage() string
}

// callPlane is the host's end of a Calls stream's data plane: each call is a Call
// frame answered by the CallReply frame with its id, in any order. One goroutine
// reads the replies and hands each to its caller. Against a unary gRPC call it skips
// the new HTTP/2 stream, its headers and trailers, and the transport's writer and
// reader goroutines on both ends.
type callPlane[C callMsg, R replyMsg] struct {
	fc       *frameConn
	cancel   func()     // ends the stream and the connection
	send     sync.Mutex // one write at a time
	broken   chan struct{}
	newReply func() R
	// stamp sets a Call's id, the caller's time left and its trace context.
	stamp func(c C, id uint64, timeoutMs int64, trace map[string]string)

	mu    sync.Mutex
	next  uint64
	calls map[uint64]chan R
	err   error // why the plane broke; nil while it works
}

// openCalls waits for the offer of a Calls stream st (ended by cancel) and connects
// to its data plane.
func openCalls[C callMsg, R replyMsg](ctx context.Context, st grpc.ClientStream, cancel func(),
	newReply func() R, stamp func(C, uint64, int64, map[string]string)) (*callPlane[C, R], error) {
	recv := func() error { return callsError(st.RecvMsg(newReply())) }
	fc, err := awaitOffer(ctx, st, callsHeader, recv)
	if err == nil && fc == nil {
		err = errNoPlane
	}
	if err != nil {
		cancel()
		return nil, err
	}
	p := &callPlane[C, R]{fc: fc, cancel: func() { cancel(); fc.close() }, broken: make(chan struct{}),
		newReply: newReply, stamp: stamp, calls: map[uint64]chan R{}}
	go p.read()
	// The stream carries nothing; its end (the plugin gone) breaks the plane.
	go func() { p.fail(recv()) }()
	return p, nil
}

// callsError is the error of calls on a Calls stream or data plane that ended with err.
func callsError(err error) error {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) {
		err = errors.New("the calls stream ended")
	}
	if _, ok := status.FromError(err); !ok {
		err = status.Errorf(codes.Unavailable, "calls data plane: %v", err)
	}
	return FromStatus(err)
}

// read hands every reply to its caller until the connection breaks.
func (p *callPlane[C, R]) read() {
	for {
		r := p.newReply()
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
func (p *callPlane[C, R]) fail(err error) {
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
func (p *callPlane[C, R]) alive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err == nil
}

// call sends c and waits for its reply, ctx's end or the plane's break. A reply with
// an error status is returned as that error, decoded as a unary call's would be.
func (p *callPlane[C, R]) call(ctx context.Context, c C) (R, error) {
	var zero R
	ch := make(chan R, 1)
	p.mu.Lock()
	if p.err != nil {
		defer p.mu.Unlock()
		return zero, p.err
	}
	p.next++
	id := p.next
	p.calls[id] = ch
	p.mu.Unlock()
	var timeout int64
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(1, time.Until(dl).Milliseconds()+1)
	}
	p.stamp(c, id, timeout, telemetry.Carrier(ctx))
	p.send.Lock()
	err := p.fc.write(c)
	p.send.Unlock()
	if err != nil {
		p.fail(callsError(err))
	}
	select {
	case r := <-ch:
		if err := itemError(r.GetCode(), r.GetMessage()); err != nil {
			return zero, err
		}
		return r, nil
	case <-p.broken:
		p.mu.Lock()
		defer p.mu.Unlock()
		delete(p.calls, id)
		return zero, p.err
	case <-ctx.Done():
		p.mu.Lock()
		delete(p.calls, id)
		p.mu.Unlock()
		return zero, contextError(ctx)
	}
}

// itemError is one item's error status in a batch's reply (nil for code 0), decoded
// as a call's would be.
func itemError(code int32, msg string) error {
	if code == 0 {
		return nil
	}
	return FromStatus(status.Error(codes.Code(code), msg))
}

// callsOpener keeps a messaging client's Calls plane: opened in the background on
// first use and again after it breaks; until it is open the client uses the unary
// calls.
type callsOpener[C callMsg, R replyMsg] struct {
	// dial opens the service's Calls stream and its plane.
	dial    func(context.Context) (*callPlane[C, R], error)
	mu      sync.Mutex
	plane   *callPlane[C, R]
	opening chan struct{} // closed when the open under way ends; nil when none is
	serves  bool          // the last open reached a plugin that serves Calls
	retryAt time.Time
}

// newCallsOpener is the opener of a service's Calls plane: open starts the Calls
// stream (with the context that ends it), newReply and stamp are as in callPlane.
func newCallsOpener[C callMsg, R replyMsg](open func(context.Context) (grpc.ClientStream, error),
	newReply func() R, stamp func(C, uint64, int64, map[string]string)) *callsOpener[C, R] {
	return &callsOpener[C, R]{dial: func(ctx context.Context) (*callPlane[C, R], error) {
		sctx, cancel := context.WithCancel(context.Background())
		st, err := open(askPipes(sctx))
		if err != nil {
			cancel()
			return nil, FromStatus(err)
		}
		return openCalls(ctx, st, cancel, newReply, stamp)
	}}
}

// get returns the open plane, or nil (the caller goes unary) while one is opened.
func (o *callsOpener[C, R]) get() *callPlane[C, R] {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.plane != nil && o.plane.alive() {
		return o.plane
	}
	o.startLocked()
	return nil
}

// served reports whether the plugin serves Calls, and so reads Subscribe.data_plane
// (both came with the same SDK): it waits for an open under way, or for one it starts.
func (o *callsOpener[C, R]) served(ctx context.Context) bool {
	o.mu.Lock()
	o.startLocked()
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
func (o *callsOpener[C, R]) startLocked() {
	if (o.plane != nil && o.plane.alive()) || o.opening != nil || time.Now().Before(o.retryAt) {
		return
	}
	o.opening = make(chan struct{})
	go o.open()
}

func (o *callsOpener[C, R]) open() {
	ctx, cancel := context.WithTimeout(context.Background(), acceptTimeout)
	defer cancel()
	p, err := o.dial(ctx)
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

// viaCalls makes one call on the Calls plane of o when it is open, else as the unary
// call. wrap puts the request in a Call, unwrap takes the response out of its reply.
func viaCalls[C callMsg, R replyMsg, Q, P any](ctx context.Context, o *callsOpener[C, R], req Q,
	wrap func(Q) C, unwrap func(R) P, unary func(context.Context, Q) (P, error)) (P, error) {
	p := o.get()
	if p == nil {
		r, err := unary(ctx, req)
		return r, FromStatus(err)
	}
	rep, err := p.call(ctx, wrap(req))
	if err != nil {
		var zero P
		return zero, err
	}
	return unwrap(rep), nil
}

// viaBatch sends a group as one batch call on the Calls plane of o (each item alone
// while the plane is not open): wrap puts the items in a Call, results takes the
// items' results out of its reply and decode turns one into a response or its error.
func viaBatch[C callMsg, R replyMsg, Q, P, X any](ctx context.Context, o *callsOpener[C, R], qs []Q,
	one func(context.Context, Q) (P, error), wrap func([]Q) C, results func(R) []X, decode func(X) (P, error)) ([]P, []error, error) {
	p := o.get()
	if p == nil {
		return oneByOne(ctx, qs, one)
	}
	rep, err := p.call(ctx, wrap(qs))
	if err != nil {
		return nil, nil, err
	}
	res := results(rep)
	outs, errs := make([]P, len(res)), make([]error, len(res))
	for i, r := range res {
		outs[i], errs[i] = decode(r)
	}
	return outs, errs, nil
}
