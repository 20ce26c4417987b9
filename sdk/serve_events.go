package sdk

import (
	"context"

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
