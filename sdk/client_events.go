package sdk

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/grpc"

	eventspb "github.com/sous-run/sous/sdk/proto/events"
)

// eventsClient is Events over a plugin connection.
type eventsClient struct {
	*baseClient
	c     eventspb.EventsClient
	calls *callsOpener[*eventspb.Call, *eventspb.CallReply] // Publish and Expire go on its plane once open
	// publishes groups the publishes that wait behind one on its way (see batcher).
	publishes *batcher[*eventspb.PublishRequest, *eventspb.PublishResponse]
}

// NewEventsClient returns Events over a plugin connection. Errors wrap their kind
// (see FromStatus): a malformed afterID is ErrInvalid.
func NewEventsClient(cc grpc.ClientConnInterface) Events {
	c := eventspb.NewEventsClient(cc)
	e := &eventsClient{baseClient: newBaseClient(cc), c: c, calls: newCallsOpener(
		func(ctx context.Context) (grpc.ClientStream, error) { return c.Calls(ctx) },
		func() *eventspb.CallReply { return new(eventspb.CallReply) },
		func(c *eventspb.Call, id uint64, timeoutMs int64, trace map[string]string) {
			c.Id, c.TimeoutMs, c.Trace = id, timeoutMs, trace
		})}
	e.publishes = &batcher[*eventspb.PublishRequest, *eventspb.PublishResponse]{one: e.publishOne, many: e.publishMany}
	return e
}

func (e *eventsClient) Publish(ctx context.Context, tenant, id string, envs ...[]byte) ([]string, error) {
	return e.PublishLast(ctx, tenant, id, 0, envs...)
}

// PublishLast sends the TTL with the envelopes (PublishRequest.ttl_seconds). Once
// the Calls plane is open, publishes that wait behind one on its way go together.
func (e *eventsClient) PublishLast(ctx context.Context, tenant, id string, ttl time.Duration, envs ...[]byte) ([]string, error) {
	q := &eventspb.PublishRequest{Tenant: tenant, InvocationId: id, Envelopes: envs, TtlSeconds: int64(secondsToWire(ttl))}
	publish := e.publishOne
	if e.calls.get() != nil {
		publish = e.publishes.do
	}
	r, err := publish(ctx, q)
	if err != nil {
		return nil, err
	}
	return r.GetIds(), nil
}

func (e *eventsClient) publishOne(ctx context.Context, q *eventspb.PublishRequest) (*eventspb.PublishResponse, error) {
	return viaCalls(ctx, e.calls, q,
		func(q *eventspb.PublishRequest) *eventspb.Call {
			return &eventspb.Call{Req: &eventspb.Call_Publish{Publish: q}}
		},
		(*eventspb.CallReply).GetPublish, e.unaryPublish)
}

// publishMany sends a group as one PublishBatch call.
func (e *eventsClient) publishMany(ctx context.Context, qs []*eventspb.PublishRequest) ([]*eventspb.PublishResponse, []error, error) {
	return viaBatch(ctx, e.calls, qs, e.publishOne,
		func(qs []*eventspb.PublishRequest) *eventspb.Call {
			return &eventspb.Call{Req: &eventspb.Call_PublishBatch{PublishBatch: &eventspb.PublishBatchRequest{Items: qs}}}
		},
		func(r *eventspb.CallReply) []*eventspb.PublishResult { return r.GetPublishBatch().GetResults() },
		func(r *eventspb.PublishResult) (*eventspb.PublishResponse, error) {
			return &eventspb.PublishResponse{Ids: r.GetIds()}, itemError(r.GetCode(), r.GetMessage())
		})
}

func (e *eventsClient) Read(ctx context.Context, tenant, id, afterID string, follow bool, fn func(Event) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := e.c.Read(ctx, &eventspb.ReadRequest{Tenant: tenant, InvocationId: id, AfterId: afterID, NoFollow: !follow})
	if err != nil {
		return FromStatus(err)
	}
	for {
		ev, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return FromStatus(err)
		}
		if err := fn(eventFromWire(ev)); err != nil {
			return err
		}
	}
}

func (e *eventsClient) Expire(ctx context.Context, tenant, id string, ttl time.Duration) error {
	_, err := viaCalls(ctx, e.calls, &eventspb.ExpireRequest{Tenant: tenant, InvocationId: id, TtlSeconds: int64(secondsToWire(ttl))},
		func(q *eventspb.ExpireRequest) *eventspb.Call {
			return &eventspb.Call{Req: &eventspb.Call_Expire{Expire: q}}
		},
		(*eventspb.CallReply).GetExpire, e.unaryExpire)
	return err
}

// The unary calls, used until the Calls plane is open (or when the plugin has none).
func (e *eventsClient) unaryPublish(ctx context.Context, q *eventspb.PublishRequest) (*eventspb.PublishResponse, error) {
	return e.c.Publish(ctx, q)
}
func (e *eventsClient) unaryExpire(ctx context.Context, q *eventspb.ExpireRequest) (*eventspb.ExpireResponse, error) {
	return e.c.Expire(ctx, q)
}
