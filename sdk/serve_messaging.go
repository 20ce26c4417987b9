package sdk

import (
	"context"

	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

// messagingServer adapts a Messaging driver to the generated gRPC service.
type messagingServer struct {
	messagingpb.UnimplementedMessagingServer
	*baseServer
	m Messaging
}

func (s *messagingServer) Enqueue(ctx context.Context, req *messagingpb.EnqueueRequest) (*messagingpb.EnqueueResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	r, err := s.m.Enqueue(ctx, taskFromWire(req.GetTask()))
	if err != nil {
		return nil, ToStatus(err)
	}
	return &messagingpb.EnqueueResponse{Id: r.ID, Duplicate: r.Duplicate}, nil
}

func (s *messagingServer) Ack(ctx context.Context, req *messagingpb.AckRequest) (*messagingpb.AckResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	if err := s.m.Ack(ctx, leaseFromWire(req.Tenant, req.Id, req.LeaseId), req.ResultJson); err != nil {
		return nil, ToStatus(err)
	}
	return &messagingpb.AckResponse{}, nil
}

func (s *messagingServer) Fail(ctx context.Context, req *messagingpb.FailRequest) (*messagingpb.FailResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	dead, err := s.m.Fail(ctx, leaseFromWire(req.Tenant, req.Id, req.LeaseId), req.Error, req.Retryable)
	if err != nil {
		return nil, ToStatus(err)
	}
	return &messagingpb.FailResponse{Dead: dead}, nil
}

func (s *messagingServer) Nack(ctx context.Context, req *messagingpb.NackRequest) (*messagingpb.NackResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	dead, err := s.m.Nack(ctx, leaseFromWire(req.Tenant, req.Id, req.LeaseId), secondsFromWire(req.DelaySeconds), req.Reason)
	if err != nil {
		return nil, ToStatus(err)
	}
	return &messagingpb.NackResponse{Dead: dead}, nil
}

func (s *messagingServer) Extend(ctx context.Context, req *messagingpb.ExtendRequest) (*messagingpb.ExtendResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	until, err := s.m.Extend(ctx, leaseFromWire(req.Tenant, req.Id, req.LeaseId), secondsFromWire(req.Seconds))
	if err != nil {
		return nil, ToStatus(err)
	}
	return &messagingpb.ExtendResponse{LeaseExpiresMs: timeToWire(until)}, nil
}

func (s *messagingServer) GetResult(ctx context.Context, req *messagingpb.GetResultRequest) (*messagingpb.TaskResult, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	r, err := s.m.Result(ctx, req.Tenant, req.Id)
	if err != nil {
		return nil, ToStatus(err)
	}
	return resultToWire(r), nil
}

func (s *messagingServer) Stats(ctx context.Context, req *messagingpb.StatsRequest) (*messagingpb.StatsResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	cs, err := s.m.Stats(ctx, req.Tenant, req.Commands)
	if err != nil {
		return nil, ToStatus(err)
	}
	return statsToWire(cs), nil
}
