package server

import (
	"context"
	"time"

	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

// Enqueue stores a task.
func (s *Server) Enqueue(ctx context.Context, req *messagingpb.EnqueueRequest) (*messagingpb.EnqueueResponse, error) {
	q, err := s.queue()
	if err != nil {
		return nil, err
	}
	id, dup, err := q.Enqueue(ctx, req.GetTask())
	if err != nil {
		return nil, grpcErr(err)
	}
	return &messagingpb.EnqueueResponse{Id: id, Duplicate: dup}, nil
}

// Ack completes a task.
func (s *Server) Ack(ctx context.Context, req *messagingpb.AckRequest) (*messagingpb.AckResponse, error) {
	q, err := s.queue()
	if err != nil {
		return nil, err
	}
	if err := q.Ack(ctx, req.Tenant, req.Id, req.LeaseId, req.ResultJson); err != nil {
		return nil, grpcErr(err)
	}
	return &messagingpb.AckResponse{}, nil
}

// Fail ends a task with an error, retrying when retryable.
func (s *Server) Fail(ctx context.Context, req *messagingpb.FailRequest) (*messagingpb.FailResponse, error) {
	q, err := s.queue()
	if err != nil {
		return nil, err
	}
	st, err := q.Fail(ctx, req.Tenant, req.Id, req.LeaseId, req.Error, req.Retryable)
	if err != nil {
		return nil, grpcErr(err)
	}
	return &messagingpb.FailResponse{Dead: st == "dead"}, nil
}

// Nack returns a task to the queue after a delay.
func (s *Server) Nack(ctx context.Context, req *messagingpb.NackRequest) (*messagingpb.NackResponse, error) {
	q, err := s.queue()
	if err != nil {
		return nil, err
	}
	st, err := q.Nack(ctx, req.Tenant, req.Id, req.LeaseId, req.Reason, time.Duration(req.DelaySeconds)*time.Second)
	if err != nil {
		return nil, grpcErr(err)
	}
	return &messagingpb.NackResponse{Dead: st == "dead"}, nil
}

// Extend pushes a lease into the future.
func (s *Server) Extend(ctx context.Context, req *messagingpb.ExtendRequest) (*messagingpb.ExtendResponse, error) {
	q, err := s.queue()
	if err != nil {
		return nil, err
	}
	exp, err := q.Extend(ctx, req.Tenant, req.Id, req.LeaseId, time.Duration(req.Seconds)*time.Second)
	if err != nil {
		return nil, grpcErr(err)
	}
	return &messagingpb.ExtendResponse{LeaseExpiresMs: exp}, nil
}

// GetResult reports a task's status and outcome.
func (s *Server) GetResult(ctx context.Context, req *messagingpb.GetResultRequest) (*messagingpb.TaskResult, error) {
	q, err := s.queue()
	if err != nil {
		return nil, err
	}
	r, err := q.Get(ctx, req.Tenant, req.Id)
	if err != nil {
		return nil, grpcErr(err)
	}
	return r, nil
}

// Stats counts tasks per command.
func (s *Server) Stats(ctx context.Context, req *messagingpb.StatsRequest) (*messagingpb.StatsResponse, error) {
	q, err := s.queue()
	if err != nil {
		return nil, err
	}
	cs, err := q.Stats(ctx, req.Tenant, req.Commands)
	if err != nil {
		return nil, grpcErr(err)
	}
	return &messagingpb.StatsResponse{Commands: cs}, nil
}
