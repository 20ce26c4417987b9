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
	c eventspb.EventsClient
}

// NewEventsClient returns Events over a plugin connection. Errors wrap their kind
// (see FromStatus): a malformed afterID is ErrInvalid.
func NewEventsClient(cc grpc.ClientConnInterface) Events {
	return &eventsClient{baseClient: newBaseClient(cc), c: eventspb.NewEventsClient(cc)}
}

func (e *eventsClient) Publish(ctx context.Context, tenant, id string, envs ...[]byte) ([]string, error) {
	return e.PublishLast(ctx, tenant, id, 0, envs...)
}

// PublishLast sends the TTL with the envelopes (PublishRequest.ttl_seconds).
func (e *eventsClient) PublishLast(ctx context.Context, tenant, id string, ttl time.Duration, envs ...[]byte) ([]string, error) {
	r, err := e.c.Publish(ctx, &eventspb.PublishRequest{Tenant: tenant, InvocationId: id, Envelopes: envs, TtlSeconds: int64(secondsToWire(ttl))})
	if err != nil {
		return nil, FromStatus(err)
	}
	return r.GetIds(), nil
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
	_, err := e.c.Expire(ctx, &eventspb.ExpireRequest{Tenant: tenant, InvocationId: id, TtlSeconds: int64(secondsToWire(ttl))})
	return FromStatus(err)
}
