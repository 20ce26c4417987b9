package sdk

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
	"github.com/sous-run/sous/sdk/telemetry"
)

// callsHeader is the response header a plugin serving Calls sends at once.
const callsHeader = "sous-calls"

// Calls serves the unary calls a host sends as messages (messaging.proto): each in
// its own goroutine through the same methods as the unary RPCs, answered in the order
// they end. It offers the data plane in its headers and serves the calls of the
// connection the host makes there the same way. It returns once the host closes its
// side (or the stream breaks) and every call has ended.
func (s *messagingServer) Calls(st messagingpb.Messaging_CallsServer) error {
	return s.calls(st, listenDataPlane())
}

// calls is Calls with the data plane offered on dp (nil: none).
func (s *messagingServer) calls(st messagingpb.Messaging_CallsServer, dp *dataPlaneListener) error {
	return serveOffering(st, callsHeader, dp, func(ctx context.Context, fc *frameConn) error {
		write := func(r *messagingpb.CallReply) error { return fc.write(r) }
		(&callServer{s: s, out: write}).serve(ctx, func() (*messagingpb.Call, error) {
			c := new(messagingpb.Call)
			return c, fc.read(c)
		})
		return nil
	}, func(ctx context.Context) error {
		(&callServer{s: s, out: st.Send}).serve(ctx, st.Recv)
		return nil
	})
}

// callServer answers the calls of one Calls stream or data-plane connection.
type callServer struct {
	s    *messagingServer
	out  func(*messagingpb.CallReply) error
	open context.Context // the stream's: once it ends nothing more is sent
	send sync.Mutex      // one write at a time
	wg   sync.WaitGroup
}

// serve starts a goroutine for every call recv returns; once recv fails (the host
// closed its side, the stream or connection broke) it waits for the calls left,
// whose context has ended with the stream's.
func (cs *callServer) serve(ctx context.Context, recv func() (*messagingpb.Call, error)) {
	cs.open = ctx
	for {
		c, err := recv()
		if err != nil {
			break
		}
		cs.wg.Add(1)
		go cs.answer(c)
	}
	cs.wg.Wait()
}

func (cs *callServer) answer(c *messagingpb.Call) {
	defer cs.wg.Done()
	var ctx context.Context
	var cancel context.CancelFunc
	if ms := c.GetTimeoutMs(); ms > 0 {
		ctx, cancel = context.WithTimeout(cs.open, time.Duration(ms)*time.Millisecond)
	} else {
		ctx, cancel = context.WithCancel(cs.open)
	}
	defer cancel()
	r := cs.s.call(ctx, c)
	r.Id = c.GetId()
	cs.send.Lock()
	defer cs.send.Unlock()
	if cs.open.Err() == nil {
		_ = cs.out(r)
	}
}

// call runs one call through the unary method of its kind (its readiness check and
// error mapping included) and puts its response or error status in a reply.
func (s *messagingServer) call(ctx context.Context, c *messagingpb.Call) *messagingpb.CallReply {
	r := &messagingpb.CallReply{}
	method := "/sous.messaging.v1.Messaging/"
	var err error
	switch q := c.GetReq().(type) {
	case *messagingpb.Call_Enqueue:
		ctx = callCtx(ctx, method+"Enqueue", c)
		var out *messagingpb.EnqueueResponse
		if out, err = s.Enqueue(ctx, q.Enqueue); err == nil {
			r.Resp = &messagingpb.CallReply_Enqueue{Enqueue: out}
		}
	case *messagingpb.Call_Ack:
		ctx = callCtx(ctx, method+"Ack", c)
		var out *messagingpb.AckResponse
		if out, err = s.Ack(ctx, q.Ack); err == nil {
			r.Resp = &messagingpb.CallReply_Ack{Ack: out}
		}
	case *messagingpb.Call_Fail:
		var out *messagingpb.FailResponse
		if out, err = s.Fail(callCtx(ctx, method+"Fail", c), q.Fail); err == nil {
			r.Resp = &messagingpb.CallReply_Fail{Fail: out}
		}
	case *messagingpb.Call_Nack:
		var out *messagingpb.NackResponse
		if out, err = s.Nack(callCtx(ctx, method+"Nack", c), q.Nack); err == nil {
			r.Resp = &messagingpb.CallReply_Nack{Nack: out}
		}
	case *messagingpb.Call_Extend:
		var out *messagingpb.ExtendResponse
		if out, err = s.Extend(callCtx(ctx, method+"Extend", c), q.Extend); err == nil {
			r.Resp = &messagingpb.CallReply_Extend{Extend: out}
		}
	default:
		err = status.Error(codes.Unimplemented, "calls: a call of a kind this plugin does not know (a newer host?)")
	}
	if err != nil {
		st := status.Convert(err)
		r.Code, r.Message = int32(st.Code()), st.Message()
	}
	return r
}

// callCtx continues the caller's trace for a call, as the tracing interceptor does
// for a unary one; the span ends with the call's context.
func callCtx(ctx context.Context, method string, c *messagingpb.Call) context.Context {
	ctx, span := telemetry.CallSpan(ctx, method, c.GetTrace())
	if span != nil {
		context.AfterFunc(ctx, func() { span.End() })
	}
	return ctx
}
