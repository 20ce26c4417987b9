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
	c     messagingpb.MessagingClient
	calls *callsOpener[*messagingpb.Call, *messagingpb.CallReply] // Enqueue, Ack, Fail, Nack and Extend go on its plane once open
	// enqueues and acks group the calls that wait behind one on its way (see batcher).
	enqueues *batcher[*messagingpb.EnqueueRequest, *messagingpb.EnqueueResponse]
	acks     *batcher[*messagingpb.AckRequest, *messagingpb.AckResponse]
}

// NewMessagingClient returns Messaging over a plugin connection (the host's side of
// the wire). Errors wrap their kind (see FromStatus).
func NewMessagingClient(cc grpc.ClientConnInterface) Messaging {
	c := messagingpb.NewMessagingClient(cc)
	m := &messagingClient{baseClient: newBaseClient(cc), c: c, calls: newCallsOpener(
		func(ctx context.Context) (grpc.ClientStream, error) { return c.Calls(ctx) },
		func() *messagingpb.CallReply { return new(messagingpb.CallReply) },
		func(c *messagingpb.Call, id uint64, timeoutMs int64, trace map[string]string) {
			c.Id, c.TimeoutMs, c.Trace = id, timeoutMs, trace
		})}
	m.enqueues = &batcher[*messagingpb.EnqueueRequest, *messagingpb.EnqueueResponse]{one: m.enqueueOne, many: m.enqueueMany}
	m.acks = &batcher[*messagingpb.AckRequest, *messagingpb.AckResponse]{one: m.ackOne, many: m.ackMany}
	return m
}

// Enqueue stores a task. Once the Calls plane is open, enqueues that wait behind one
// on its way go together.
func (m *messagingClient) Enqueue(ctx context.Context, t Task) (Enqueued, error) {
	enqueue := m.enqueueOne
	if m.calls.get() != nil {
		enqueue = m.enqueues.do
	}
	r, err := enqueue(ctx, &messagingpb.EnqueueRequest{Task: taskToWire(t)})
	if err != nil {
		return Enqueued{}, err
	}
	return Enqueued{ID: r.GetId(), Duplicate: r.GetDuplicate()}, nil
}

func (m *messagingClient) enqueueOne(ctx context.Context, q *messagingpb.EnqueueRequest) (*messagingpb.EnqueueResponse, error) {
	return viaCalls(ctx, m.calls, q,
		func(q *messagingpb.EnqueueRequest) *messagingpb.Call {
			return &messagingpb.Call{Req: &messagingpb.Call_Enqueue{Enqueue: q}}
		},
		(*messagingpb.CallReply).GetEnqueue, m.unaryEnqueue)
}

// enqueueMany sends a group as one EnqueueBatch call.
func (m *messagingClient) enqueueMany(ctx context.Context, qs []*messagingpb.EnqueueRequest) ([]*messagingpb.EnqueueResponse, []error, error) {
	return viaBatch(ctx, m.calls, qs, m.enqueueOne,
		func(qs []*messagingpb.EnqueueRequest) *messagingpb.Call {
			return &messagingpb.Call{Req: &messagingpb.Call_EnqueueBatch{EnqueueBatch: &messagingpb.EnqueueBatchRequest{Items: qs}}}
		},
		func(r *messagingpb.CallReply) []*messagingpb.EnqueueResult { return r.GetEnqueueBatch().GetResults() },
		func(r *messagingpb.EnqueueResult) (*messagingpb.EnqueueResponse, error) {
			return &messagingpb.EnqueueResponse{Id: r.GetId(), Duplicate: r.GetDuplicate()}, itemError(r.GetCode(), r.GetMessage())
		})
}

// Ack completes a task. Once the Calls plane is open, acks that wait behind one on
// its way go together.
func (m *messagingClient) Ack(ctx context.Context, l Lease, result []byte) error {
	q := &messagingpb.AckRequest{Tenant: l.Tenant, Id: l.TaskID, LeaseId: l.ID, ResultJson: result}
	ack := m.ackOne
	if m.calls.get() != nil {
		ack = m.acks.do
	}
	_, err := ack(ctx, q)
	return err
}

func (m *messagingClient) ackOne(ctx context.Context, q *messagingpb.AckRequest) (*messagingpb.AckResponse, error) {
	return viaCalls(ctx, m.calls, q,
		func(q *messagingpb.AckRequest) *messagingpb.Call {
			return &messagingpb.Call{Req: &messagingpb.Call_Ack{Ack: q}}
		},
		(*messagingpb.CallReply).GetAck, m.unaryAck)
}

// ackMany sends a group as one AckBatch call.
func (m *messagingClient) ackMany(ctx context.Context, qs []*messagingpb.AckRequest) ([]*messagingpb.AckResponse, []error, error) {
	return viaBatch(ctx, m.calls, qs, m.ackOne,
		func(qs []*messagingpb.AckRequest) *messagingpb.Call {
			return &messagingpb.Call{Req: &messagingpb.Call_AckBatch{AckBatch: &messagingpb.AckBatchRequest{Items: qs}}}
		},
		func(r *messagingpb.CallReply) []*messagingpb.ItemStatus { return r.GetAckBatch().GetResults() },
		func(r *messagingpb.ItemStatus) (*messagingpb.AckResponse, error) {
			return &messagingpb.AckResponse{}, itemError(r.GetCode(), r.GetMessage())
		})
}

func (m *messagingClient) Fail(ctx context.Context, l Lease, reason string, retryable bool) (bool, error) {
	r, err := viaCalls(ctx, m.calls, &messagingpb.FailRequest{Tenant: l.Tenant, Id: l.TaskID, LeaseId: l.ID, Error: reason, Retryable: retryable},
		func(q *messagingpb.FailRequest) *messagingpb.Call {
			return &messagingpb.Call{Req: &messagingpb.Call_Fail{Fail: q}}
		},
		(*messagingpb.CallReply).GetFail, m.unaryFail)
	return r.GetDead(), err
}

func (m *messagingClient) Nack(ctx context.Context, l Lease, delay time.Duration, reason string) (bool, error) {
	r, err := viaCalls(ctx, m.calls, &messagingpb.NackRequest{Tenant: l.Tenant, Id: l.TaskID, LeaseId: l.ID, DelaySeconds: secondsToWire(delay), Reason: reason},
		func(q *messagingpb.NackRequest) *messagingpb.Call {
			return &messagingpb.Call{Req: &messagingpb.Call_Nack{Nack: q}}
		},
		(*messagingpb.CallReply).GetNack, m.unaryNack)
	return r.GetDead(), err
}

func (m *messagingClient) Extend(ctx context.Context, l Lease, d time.Duration) (time.Time, error) {
	r, err := viaCalls(ctx, m.calls, &messagingpb.ExtendRequest{Tenant: l.Tenant, Id: l.TaskID, LeaseId: l.ID, Seconds: secondsToWire(d)},
		func(q *messagingpb.ExtendRequest) *messagingpb.Call {
			return &messagingpb.Call{Req: &messagingpb.Call_Extend{Extend: q}}
		},
		(*messagingpb.CallReply).GetExtend, m.unaryExtend)
	if err != nil {
		return time.Time{}, err
	}
	return timeFromWire(r.GetLeaseExpiresMs()), nil
}

// The unary calls, used until the Calls plane is open (or when the plugin has none).
func (m *messagingClient) unaryEnqueue(ctx context.Context, q *messagingpb.EnqueueRequest) (*messagingpb.EnqueueResponse, error) {
	return m.c.Enqueue(ctx, q)
}
func (m *messagingClient) unaryAck(ctx context.Context, q *messagingpb.AckRequest) (*messagingpb.AckResponse, error) {
	return m.c.Ack(ctx, q)
}
func (m *messagingClient) unaryFail(ctx context.Context, q *messagingpb.FailRequest) (*messagingpb.FailResponse, error) {
	return m.c.Fail(ctx, q)
}
func (m *messagingClient) unaryNack(ctx context.Context, q *messagingpb.NackRequest) (*messagingpb.NackResponse, error) {
	return m.c.Nack(ctx, q)
}
func (m *messagingClient) unaryExtend(ctx context.Context, q *messagingpb.ExtendRequest) (*messagingpb.ExtendResponse, error) {
	return m.c.Extend(ctx, q)
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

// Consume opens the Consume stream and sends Subscribe; credits follow from Next. A
// plugin that serves Calls reads Subscribe.data_plane too: the host asks it for the
// data plane and, when it can connect, takes the deliveries there.
func (m *messagingClient) Consume(ctx context.Context, s Subscription) (Consumer, error) {
	ctx, cancel := context.WithCancel(ctx)
	st, err := m.c.Consume(askPipes(ctx))
	if err != nil {
		cancel()
		return nil, FromStatus(err)
	}
	sub := subscriptionToWire(s)
	sub.DataPlane = m.calls.served(ctx)
	if err := st.Send(&messagingpb.ConsumeRequest{Msg: &messagingpb.ConsumeRequest_Subscribe{Subscribe: sub}}); err != nil {
		cancel()
		return nil, FromStatus(err)
	}
	c := &wireConsumer{stream: st, cancel: cancel, wake: make(chan struct{}, 1), ended: make(chan struct{})}
	if sub.DataPlane {
		fc, err := awaitOffer(ctx, st, consumeHeader, func() error { _, err := st.Recv(); return err })
		if err != nil {
			cancel()
			return nil, FromStatus(err)
		}
		if fc != nil {
			c.stream = consumeFrames{fc: fc, stream: st}
			c.cancel = func() { cancel(); fc.close() }
		}
	}
	go c.receive()
	return c, nil
}
