package events

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	eventspb "github.com/sous-run/sous/sdk/proto/events"
)

// Plugin adapts an events plugin client to Log.
type Plugin struct{ C eventspb.EventsClient }

// Publish appends envelopes through the plugin.
func (p Plugin) Publish(ctx context.Context, tenant, id string, envs ...[]byte) ([]string, error) {
	r, err := p.C.Publish(ctx, &eventspb.PublishRequest{Tenant: tenant, InvocationId: id, Envelopes: envs})
	if err != nil {
		return nil, fmt.Errorf("publish events of %s: %w", id, err)
	}
	return r.Ids, nil
}

// Read follows the invocation's events through the plugin.
func (p Plugin) Read(ctx context.Context, tenant, id, afterID string, follow bool, fn func(Event) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := p.C.Read(ctx, &eventspb.ReadRequest{Tenant: tenant, InvocationId: id, AfterId: afterID, NoFollow: !follow})
	if err != nil {
		return readError(id, err)
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
			return readError(id, err)
		}
		if err := fn(Event{ID: ev.Id, Envelope: ev.Envelope}); err != nil {
			return err
		}
	}
}

// readError wraps a plugin's Read error; InvalidArgument (the only bad input a Read
// can carry is its after id) becomes ErrBadEventID.
func readError(id string, err error) error {
	if status.Code(err) == codes.InvalidArgument {
		return fmt.Errorf("read events of %s: %w: %s", id, ErrBadEventID, status.Convert(err).Message())
	}
	return fmt.Errorf("read events of %s: %w", id, err)
}

// Expire sets the log's TTL through the plugin.
func (p Plugin) Expire(ctx context.Context, tenant, id string, ttl time.Duration) error {
	if _, err := p.C.Expire(ctx, &eventspb.ExpireRequest{Tenant: tenant, InvocationId: id, TtlSeconds: int64(ttl / time.Second)}); err != nil {
		return fmt.Errorf("expire events of %s: %w", id, err)
	}
	return nil
}
