package sdk

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
	"github.com/sous-run/sous/sdk/telemetry"
)

// callsHeader is the response header a plugin serving Calls sends at once.
const callsHeader = "sous-calls"

// Calls serves the unary calls a host sends as messages (messaging.proto), see
// serveCalls.
func (s *messagingServer) Calls(st messagingpb.Messaging_CallsServer) error {
	return serveCalls(st, func() *messagingpb.Call { return new(messagingpb.Call) }, s.call)
}

// serveCalls serves a Calls stream: each call in its own goroutine through handle
// (the same methods as the unary RPCs), answered in the order they end. It offers the
// data plane in its headers and serves the calls of the connection the host makes
// there the same way. It returns once the host closes its side (or the stream breaks)
// and every call has ended.
func serveCalls[C callMsg, R replyMsg](st grpc.ServerStream, newCall func() C, handle func(context.Context, C) R) error {
	return serveOffering(st, callsHeader, listenDataPlane(), func(ctx context.Context, fc *frameConn) error {
		out := func(r R) error { return fc.write(r) }
		(&callServer[C, R]{handle: handle, out: out}).serve(ctx, func() (C, error) {
			c := newCall()
			return c, fc.read(c)
		})
		return nil
	}, func(ctx context.Context) error {
		out := func(r R) error { return st.SendMsg(r) }
		(&callServer[C, R]{handle: handle, out: out}).serve(ctx, func() (C, error) {
			c := newCall()
			return c, st.RecvMsg(c)
		})
		return nil
	})
}

// callServer answers the calls of one Calls stream or data-plane connection.
type callServer[C callMsg, R replyMsg] struct {
	handle func(context.Context, C) R
	out    func(R) error
	open   context.Context // the stream's: once it ends nothing more is sent
	send   sync.Mutex      // one write at a time
	wg     sync.WaitGroup
}

// serve starts a goroutine for every call recv returns; once recv fails (the host
// closed its side, the stream or connection broke) it waits for the calls left,
// whose context has ended with the stream's.
func (cs *callServer[C, R]) serve(ctx context.Context, recv func() (C, error)) {
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

func (cs *callServer[C, R]) answer(c C) {
	defer cs.wg.Done()
	var ctx context.Context
	var cancel context.CancelFunc
	if ms := c.GetTimeoutMs(); ms > 0 {
		ctx, cancel = context.WithTimeout(cs.open, time.Duration(ms)*time.Millisecond)
	} else {
		ctx, cancel = context.WithCancel(cs.open)
	}
	defer cancel()
	r := cs.handle(ctx, c)
	cs.send.Lock()
	defer cs.send.Unlock()
	if cs.open.Err() == nil {
		_ = cs.out(r)
	}
}

// replyStatus is a call's error as a CallReply carries it (0 and "" for none).
func replyStatus(err error) (int32, string) {
	if err == nil {
		return 0, ""
	}
	st := status.Convert(err)
	return int32(st.Code()), st.Message()
}

// callCtx continues the caller's trace for a call, as the tracing interceptor does
// for a unary one; the span ends with the call's context.
func callCtx(ctx context.Context, method string, trace map[string]string) context.Context {
	ctx, span := telemetry.CallSpan(ctx, method, trace)
	if span != nil {
		context.AfterFunc(ctx, func() { span.End() })
	}
	return ctx
}

// call runs one call through the unary method of its kind (its readiness check and
// error mapping included) and puts its response or error status in a reply.
func (s *messagingServer) call(ctx context.Context, c *messagingpb.Call) *messagingpb.CallReply {
	r := &messagingpb.CallReply{Id: c.GetId()}
	method, trace := "/sous.messaging.v1.Messaging/", c.GetTrace()
	var err error
	switch q := c.GetReq().(type) {
	case *messagingpb.Call_Enqueue:
		var out *messagingpb.EnqueueResponse
		if out, err = s.Enqueue(callCtx(ctx, method+"Enqueue", trace), q.Enqueue); err == nil {
			r.Resp = &messagingpb.CallReply_Enqueue{Enqueue: out}
		}
	case *messagingpb.Call_Ack:
		var out *messagingpb.AckResponse
		if out, err = s.Ack(callCtx(ctx, method+"Ack", trace), q.Ack); err == nil {
			r.Resp = &messagingpb.CallReply_Ack{Ack: out}
		}
	case *messagingpb.Call_Fail:
		var out *messagingpb.FailResponse
		if out, err = s.Fail(callCtx(ctx, method+"Fail", trace), q.Fail); err == nil {
			r.Resp = &messagingpb.CallReply_Fail{Fail: out}
		}
	case *messagingpb.Call_Nack:
		var out *messagingpb.NackResponse
		if out, err = s.Nack(callCtx(ctx, method+"Nack", trace), q.Nack); err == nil {
			r.Resp = &messagingpb.CallReply_Nack{Nack: out}
		}
	case *messagingpb.Call_Extend:
		var out *messagingpb.ExtendResponse
		if out, err = s.Extend(callCtx(ctx, method+"Extend", trace), q.Extend); err == nil {
			r.Resp = &messagingpb.CallReply_Extend{Extend: out}
		}
	case *messagingpb.Call_EnqueueBatch:
		var out *messagingpb.EnqueueBatchResponse
		if out, err = s.enqueueBatch(callCtx(ctx, method+"EnqueueBatch", trace), q.EnqueueBatch); err == nil {
			r.Resp = &messagingpb.CallReply_EnqueueBatch{EnqueueBatch: out}
		}
	case *messagingpb.Call_AckBatch:
		var out *messagingpb.AckBatchResponse
		if out, err = s.ackBatch(callCtx(ctx, method+"AckBatch", trace), q.AckBatch); err == nil {
			r.Resp = &messagingpb.CallReply_AckBatch{AckBatch: out}
		}
	default:
		err = status.Error(codes.Unimplemented, "calls: a call of a kind this plugin does not know (a newer host?)")
	}
	r.Code, r.Message = replyStatus(err)
	return r
}
