package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/producerpb"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/workerpb"
)

// MemConn connects a client in this process (the codeq driver of an embedded broker) to
// the broker's producer and worker streams without a socket, HTTP/2 or encoding: each
// stream runs the same handler as a network stream, and messages are handed over as Go
// values. Neither side may change a message after sending it. Hosts joining as workers
// still use the TCP ports.
type MemConn struct {
	b      *Broker
	ctx    context.Context // ends with Close: every stream of this conn ends with it
	cancel context.CancelFunc
}

// memMethod is a stream the broker serves in memory.
type memMethod struct {
	srv     any
	handler grpc.StreamHandler
}

// memMethods maps the full method names of both services to their handlers.
func (b *Broker) memMethods() map[string]memMethod {
	out := map[string]memMethod{}
	for _, s := range []struct {
		desc *grpc.ServiceDesc
		srv  any
	}{{&producerpb.ProducerStream_ServiceDesc, &producerServer{b: b}}, {&workerpb.WorkerStream_ServiceDesc, &workerServer{b: b}}} {
		for _, st := range s.desc.Streams {
			out["/"+s.desc.ServiceName+"/"+st.StreamName] = memMethod{srv: s.srv, handler: st.Handler}
		}
	}
	return out
}

// DialMem returns a connection to this broker's streams in memory.
func (b *Broker) DialMem() *MemConn {
	ctx, cancel := context.WithCancel(context.Background())
	return &MemConn{b: b, ctx: ctx, cancel: cancel}
}

// Close ends every stream opened on c.
func (c *MemConn) Close() error {
	c.cancel()
	return nil
}

// Invoke is not served: both codeQ services are streams only.
func (c *MemConn) Invoke(context.Context, string, any, any, ...grpc.CallOption) error {
	return status.Error(codes.Unimplemented, "codeq broker in memory: unary calls are not served")
}

// NewStream starts the method's handler on a new in-memory stream pair.
func (c *MemConn) NewStream(ctx context.Context, _ *grpc.StreamDesc, method string, _ ...grpc.CallOption) (grpc.ClientStream, error) {
	m, ok := c.b.mem[method]
	if !ok {
		return nil, status.Errorf(codes.Unimplemented, "codeq broker in memory: unknown method %s", method)
	}
	if err := c.ctx.Err(); err != nil {
		return nil, status.Error(codes.Canceled, "codeq broker in memory: connection closed")
	}
	cctx, ccancel := context.WithCancel(ctx)
	stopConn := context.AfterFunc(c.ctx, ccancel)
	sctx, scancel := context.WithCancel(c.b.ctx)
	stopClient := context.AfterFunc(cctx, scancel)
	up, down := newMemQueue(), newMemQueue()
	cs := &memClientStream{memEnd: memEnd{ctx: cctx, send: up, recv: down}, cancel: ccancel}
	ss := &memServerStream{memEnd{ctx: sctx, send: down, recv: up}}
	if !c.b.startMem(func() {
		err := m.handler(m.srv, ss)
		scancel()
		stopClient()
		stopConn()
		up.close(io.EOF)
		down.close(endStatus(err))
	}) {
		ccancel()
		stopClient()
		stopConn()
		scancel()
		return nil, status.Error(codes.Unavailable, "codeq broker in memory: broker closed")
	}
	return cs, nil
}

// startMem runs a stream handler unless the broker is closing; false if it is.
func (b *Broker) startMem(run func()) bool {
	b.memMu.Lock()
	defer b.memMu.Unlock()
	if b.ctx.Err() != nil {
		return false
	}
	b.memWG.Add(1)
	go func() {
		defer b.memWG.Done()
		run()
	}()
	return true
}

// endStatus is what the client reads once the handler returned: io.EOF for a clean end,
// else the handler's status (Unknown for an error without one), as over the network.
func endStatus(err error) error {
	if err == nil {
		return io.EOF
	}
	if errors.Is(err, context.Canceled) {
		return status.Error(codes.Canceled, err.Error())
	}
	return status.Convert(err).Err()
}

// memEnd is what both ends of an in-memory stream share.
type memEnd struct {
	ctx        context.Context
	send, recv *memQueue
}

func (e *memEnd) Context() context.Context { return e.ctx }

// put queues m for the other end; false once this stream has ended.
func (e *memEnd) put(m any) bool { return e.ctx.Err() == nil && e.send.push(m) }

// RecvMsg moves the other end's next message into m.
func (e *memEnd) RecvMsg(m any) error {
	got, err := e.recv.pop(e.ctx)
	if err != nil {
		if e.ctx.Err() != nil {
			return status.FromContextError(e.ctx.Err()).Err()
		}
		return err
	}
	return moveMsg(m, got)
}

// memClientStream is the client's end of an in-memory stream.
type memClientStream struct {
	memEnd
	cancel    context.CancelFunc
	closeOnce sync.Once
}

func (s *memClientStream) Header() (metadata.MD, error) { return metadata.MD{}, nil }
func (s *memClientStream) Trailer() metadata.MD         { return metadata.MD{} }

// CloseSend ends the client's side: the handler reads io.EOF.
func (s *memClientStream) CloseSend() error {
	s.closeOnce.Do(func() { s.send.close(io.EOF) })
	return nil
}

// SendMsg hands m to the handler; io.EOF once the stream has ended (RecvMsg says why).
func (s *memClientStream) SendMsg(m any) error {
	if !s.put(m) {
		return io.EOF
	}
	return nil
}

// RecvMsg moves the handler's next message into m; once the stream has ended it
// releases the stream's context, as a network stream does.
func (s *memClientStream) RecvMsg(m any) error {
	err := s.memEnd.RecvMsg(m)
	if err != nil {
		s.cancel()
	}
	return err
}

// memServerStream is the handler's end of an in-memory stream.
type memServerStream struct{ memEnd }

func (s *memServerStream) SetHeader(metadata.MD) error  { return nil }
func (s *memServerStream) SendHeader(metadata.MD) error { return nil }
func (s *memServerStream) SetTrailer(metadata.MD)       {}

// SendMsg hands m to the client.
func (s *memServerStream) SendMsg(m any) error {
	if !s.put(m) {
		return status.Error(codes.Canceled, "codeq broker in memory: stream ended")
	}
	return nil
}

// moveMsg gives dst the contents of src, a message of the same type. The streams' four
// event types carry one oneof each, so moving it is a pointer copy; any other message is
// copied with proto.Merge.
func moveMsg(dst, src any) error {
	ok := false
	switch d := dst.(type) {
	case *producerpb.ProducerEvent:
		ok = moveAs(d, src, func(d, s *producerpb.ProducerEvent) { d.Event = s.Event })
	case *producerpb.ServerEvent:
		ok = moveAs(d, src, func(d, s *producerpb.ServerEvent) { d.Event = s.Event })
	case *workerpb.WorkerEvent:
		ok = moveAs(d, src, func(d, s *workerpb.WorkerEvent) { d.Event = s.Event })
	case *workerpb.ServerEvent:
		ok = moveAs(d, src, func(d, s *workerpb.ServerEvent) { d.Event = s.Event })
	default:
		dm, dok := dst.(proto.Message)
		sm, sok := src.(proto.Message)
		if ok = dok && sok && dm.ProtoReflect().Descriptor() == sm.ProtoReflect().Descriptor(); ok {
			proto.Reset(dm)
			proto.Merge(dm, sm)
		}
	}
	if !ok {
		return status.Error(codes.Internal, fmt.Sprintf("codeq broker in memory: cannot receive %T into %T", src, dst))
	}
	return nil
}

// moveAs moves src into dst with move when src has dst's type.
func moveAs[T any](dst *T, src any, move func(dst, src *T)) bool {
	s, ok := src.(*T)
	if ok {
		move(dst, s)
	}
	return ok
}
