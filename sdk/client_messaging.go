package sdk

import (
	"context"
	"time"

	"google.golang.org/grpc"

	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

// messagingClient is Messaging over a plugin connection.
type messagingClient struct {
	*baseClient
	c messagingpb.MessagingClient
}

// NewMessagingClient returns Messaging over a plugin connection (the host's side of
// the wire). Errors wrap their kind (see FromStatus).
func NewMessagingClient(cc grpc.ClientConnInterface) Messaging {
	return &messagingClient{baseClient: newBaseClient(cc), c: messagingpb.NewMessagingClient(cc)}
}

func (m *messagingClient) Enqueue(ctx context.Context, t Task) (Enqueued, error) {
	r, err := m.c.Enqueue(ctx, &messagingpb.EnqueueRequest{Task: taskToWire(t)})
	if err != nil {
		return Enqueued{}, FromStatus(err)
	}
	return Enqueued{ID: r.GetId(), Duplicate: r.GetDuplicate()}, nil
}

func (m *messagingClient) Ack(ctx context.Context, l Lease, result []byte) error {
	_, err := m.c.Ack(ctx, &messagingpb.AckRequest{Tenant: l.Tenant, Id: l.TaskID, LeaseId: l.ID, ResultJson: result})
	return FromStatus(err)
}

func (m *messagingClient) Fail(ctx context.Context, l Lease, reason string, retryable bool) (bool, error) {
	r, err := m.c.Fail(ctx, &messagingpb.FailRequest{Tenant: l.Tenant, Id: l.TaskID, LeaseId: l.ID, Error: reason, Retryable: retryable})
	return r.GetDead(), FromStatus(err)
}

func (m *messagingClient) Nack(ctx context.Context, l Lease, delay time.Duration, reason string) (bool, error) {
	r, err := m.c.Nack(ctx, &messagingpb.NackRequest{Tenant: l.Tenant, Id: l.TaskID, LeaseId: l.ID, DelaySeconds: secondsToWire(delay), Reason: reason})
	return r.GetDead(), FromStatus(err)
}

func (m *messagingClient) Extend(ctx context.Context, l Lease, d time.Duration) (time.Time, error) {
	r, err := m.c.Extend(ctx, &messagingpb.ExtendRequest{Tenant: l.Tenant, Id: l.TaskID, LeaseId: l.ID, Seconds: secondsToWire(d)})
	if err != nil {
		return time.Time{}, FromStatus(err)
	}
	return timeFromWire(r.GetLeaseExpiresMs()), nil
}

func (m *messagingClient) Result(ctx context.Context, tenant, id string) (TaskResult, error) {
	r, err := m.c.GetResult(ctx, &messagingpb.GetResultRequest{Tenant: tenant, Id: id})
	if err != nil {
		return TaskResult{}, FromStatus(err)
	}
	return resultFromWire(r), nil
}

func (m *messagingClient) Stats(ctx context.Context, tenant string, commands []string) ([]CommandStats, error) {
	r, err := m.c.Stats(ctx, &messagingpb.StatsRequest{Tenant: tenant, Commands: commands})
	if err != nil {
		return nil, FromStatus(err)
	}
	return statsFromWire(r), nil
}

// Consume opens the Consume stream and sends Subscribe; credits follow from Next.
func (m *messagingClient) Consume(ctx context.Context, s Subscription) (Consumer, error) {
	ctx, cancel := context.WithCancel(ctx)
	st, err := m.c.Consume(ctx)
	if err != nil {
		cancel()
		return nil, FromStatus(err)
	}
	sub := subscriptionToWire(s)
	if err := st.Send(&messagingpb.ConsumeRequest{Msg: &messagingpb.ConsumeRequest_Subscribe{Subscribe: sub}}); err != nil {
		cancel()
		return nil, FromStatus(err)
	}
	c := &wireConsumer{stream: st, cancel: cancel, wake: make(chan struct{}, 1), ended: make(chan struct{})}
	go c.receive()
	return c, nil
}
