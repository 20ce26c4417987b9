package sdk

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	eventspb "github.com/sous-run/sous/sdk/proto/events"
)

// eventsServer adapts an Events driver to the generated gRPC service.
type eventsServer struct {
	eventspb.UnimplementedEventsServer
	*baseServer
	e Events
}

func (s *eventsServer) Publish(ctx context.Context, req *eventspb.PublishRequest) (*eventspb.PublishResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	var ids []string
	var err error
	if req.TtlSeconds > 0 {
		ids, err = PublishLast(ctx, s.e, req.Tenant, req.InvocationId, secondsFromWire(req.TtlSeconds), req.Envelopes...)
	} else {
		ids, err = s.e.Publish(ctx, req.Tenant, req.InvocationId, req.Envelopes...)
	}
	if err != nil {
		return nil, ToStatus(err)
	}
	return &eventspb.PublishResponse{Ids: ids}, nil
}

func (s *eventsServer) Read(req *eventspb.ReadRequest, out eventspb.Events_ReadServer) error {
	if err := s.ready(); err != nil {
		return err
	}
	return ToStatus(s.e.Read(out.Context(), req.Tenant, req.InvocationId, req.AfterId, !req.NoFollow, func(ev Event) error {
		return out.Send(eventToWire(ev))
	}))
}

func (s *eventsServer) Expire(ctx context.Context, req *eventspb.ExpireRequest) (*eventspb.ExpireResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	if err := s.e.Expire(ctx, req.Tenant, req.InvocationId, secondsFromWire(req.TtlSeconds)); err != nil {
		return nil, ToStatus(err)
	}
	return &eventspb.ExpireResponse{}, nil
}

// Calls serves Publish and Expire sent as messages, see serveCalls.
func (s *eventsServer) Calls(st eventspb.Events_CallsServer) error {
	return serveCalls(st, func() *eventspb.Call { return new(eventspb.Call) }, s.call)
}

// call runs one call through the unary method of its kind and puts its response or
// error status in a reply.
func (s *eventsServer) call(ctx context.Context, c *eventspb.Call) *eventspb.CallReply {
	r := &eventspb.CallReply{Id: c.GetId()}
	method, trace := "/sous.events.v1.Events/", c.GetTrace()
	var err error
	switch q := c.GetReq().(type) {
	case *eventspb.Call_Publish:
		var out *eventspb.PublishResponse
		if out, err = s.Publish(callCtx(ctx, method+"Publish", trace), q.Publish); err == nil {
			r.Resp = &eventspb.CallReply_Publish{Publish: out}
		}
	case *eventspb.Call_Expire:
		var out *eventspb.ExpireResponse
		if out, err = s.Expire(callCtx(ctx, method+"Expire", trace), q.Expire); err == nil {
			r.Resp = &eventspb.CallReply_Expire{Expire: out}
		}
	case *eventspb.Call_PublishBatch:
		var out *eventspb.PublishBatchResponse
		if out, err = s.publishBatch(callCtx(ctx, method+"PublishBatch", trace), q.PublishBatch); err == nil {
			r.Resp = &eventspb.CallReply_PublishBatch{PublishBatch: out}
		}
	default:
		err = status.Error(codes.Unimplemented, "calls: a call of a kind this plugin does not know (a newer host?)")
	}
	r.Code, r.Message = replyStatus(err)
	return r
}
