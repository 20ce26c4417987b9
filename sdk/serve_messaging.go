package sdk

import (
	"context"
	"time"

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
	r, err := s.m.Enqueue(ctx, taskFromPB(req.GetTask()))
	if err != nil {
		return nil, ToStatus(err)
	}
	return &messagingpb.EnqueueResponse{Id: r.ID, Duplicate: r.Duplicate}, nil
}

func (s *messagingServer) Ack(ctx context.Context, req *messagingpb.AckRequest) (*messagingpb.AckResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	if err := s.m.Ack(ctx, lease(req.Tenant, req.Id, req.LeaseId), req.ResultJson); err != nil {
		return nil, ToStatus(err)
	}
	return &messagingpb.AckResponse{}, nil
}

func (s *messagingServer) Fail(ctx context.Context, req *messagingpb.FailRequest) (*messagingpb.FailResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	dead, err := s.m.Fail(ctx, lease(req.Tenant, req.Id, req.LeaseId), req.Error, req.Retryable)
	if err != nil {
		return nil, ToStatus(err)
	}
	return &messagingpb.FailResponse{Dead: dead}, nil
}

func (s *messagingServer) Nack(ctx context.Context, req *messagingpb.NackRequest) (*messagingpb.NackResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	dead, err := s.m.Nack(ctx, lease(req.Tenant, req.Id, req.LeaseId), seconds(req.DelaySeconds), req.Reason)
	if err != nil {
		return nil, ToStatus(err)
	}
	return &messagingpb.NackResponse{Dead: dead}, nil
}

func (s *messagingServer) Extend(ctx context.Context, req *messagingpb.ExtendRequest) (*messagingpb.ExtendResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	until, err := s.m.Extend(ctx, lease(req.Tenant, req.Id, req.LeaseId), seconds(req.Seconds))
	if err != nil {
		return nil, ToStatus(err)
	}
	return &messagingpb.ExtendResponse{LeaseExpiresMs: unixMs(until)}, nil
}

func (s *messagingServer) GetResult(ctx context.Context, req *messagingpb.GetResultRequest) (*messagingpb.TaskResult, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	r, err := s.m.Result(ctx, req.Tenant, req.Id)
	if err != nil {
		return nil, ToStatus(err)
	}
	return &messagingpb.TaskResult{Id: r.ID, Status: r.Status, ResultJson: r.Result, Error: r.Error,
		CompletedAtMs: unixMs(r.CompletedAt), Attempts: int32(r.Attempts)}, nil
}

func (s *messagingServer) Stats(ctx context.Context, req *messagingpb.StatsRequest) (*messagingpb.StatsResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	cs, err := s.m.Stats(ctx, req.Tenant, req.Commands)
	if err != nil {
		return nil, ToStatus(err)
	}
	out := &messagingpb.StatsResponse{Commands: make([]*messagingpb.CommandStats, 0, len(cs))}
	for _, c := range cs {
		out.Commands = append(out.Commands, &messagingpb.CommandStats{Command: c.Command, Pending: c.Pending,
			InProgress: c.InProgress, Delayed: c.Delayed, Dead: c.Dead})
	}
	return out, nil
}

func lease(tenant, id, leaseID string) Lease { return Lease{Tenant: tenant, TaskID: id, ID: leaseID} }

func seconds[T int32 | int64](n T) time.Duration { return time.Duration(n) * time.Second }

// unixMs is t in Unix milliseconds; 0 for the zero time.
func unixMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromUnixMs is the inverse of unixMs.
func fromUnixMs(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func taskFromPB(t *messagingpb.Task) Task {
	return Task{ID: t.GetId(), Tenant: t.GetTenant(), Command: t.GetCommand(), Payload: t.GetPayload(),
		IdempotencyKey: t.GetIdempotencyKey(), Priority: int(t.GetPriority()),
		Delay: time.Duration(t.GetDelayMs()) * time.Millisecond, MaxAttempts: int(t.GetMaxAttempts()),
		Attempt: int(t.GetAttempt()), EnqueuedAt: fromUnixMs(t.GetEnqueuedAtMs())}
}

func deliveryToPB(d Delivery) *messagingpb.Delivery {
	t := d.Task
	return &messagingpb.Delivery{Task: &messagingpb.Task{Id: t.ID, Tenant: t.Tenant, Command: t.Command, Payload: t.Payload,
		IdempotencyKey: t.IdempotencyKey, Priority: int32(t.Priority), DelayMs: t.Delay.Milliseconds(),
		MaxAttempts: int32(t.MaxAttempts), Attempt: int32(t.Attempt), EnqueuedAtMs: unixMs(t.EnqueuedAt)},
		LeaseId: d.Lease.ID, LeaseExpiresMs: unixMs(d.Lease.Expires)}
}
