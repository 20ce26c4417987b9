// Package server is the events-redisstream driver: sdk.Events over the stream package.
package server

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/plugins/events-redisstream/stream"
	"github.com/sous-run/sous/internal/redisconn"
	"github.com/sous-run/sous/sdk"
)

// Version is the plugin's own version.
const Version = "0.1.0"

// Server is the driver: Base (redisconn.Plugin) and the event log.
type Server struct {
	*redisconn.Plugin[*stream.Log]
}

// New returns an unconfigured server.
func New(log hclog.Logger) *Server {
	info := sdk.Info{Kind: sdk.KindEvents, Driver: "redisstream", Version: Version,
		Description: "per-invocation event logs on Redis Streams"}
	return &Server{redisconn.NewPlugin(info, stream.Section, log, setup)}
}

// setup parses the config subtree over the defaults.
func setup(raw []byte) (*redisconn.Conn, func(*redisconn.Clients) *stream.Log, error) {
	cfg := stream.DefaultConfig()
	if err := redisconn.Parse(stream.Section, raw, &cfg); err != nil {
		return nil, nil, err
	}
	return &cfg.Conn, func(cl *redisconn.Clients) *stream.Log { return stream.New(cfg, cl) }, nil
}

// Publish appends envelopes and returns their ids.
func (s *Server) Publish(ctx context.Context, tenant, invocationID string, envelopes ...[]byte) ([]string, error) {
	return s.PublishLast(ctx, tenant, invocationID, 0, envelopes...)
}

// PublishLast appends envelopes and sets the log's TTL in the same MULTI.
func (s *Server) PublishLast(ctx context.Context, tenant, invocationID string, ttl time.Duration, envelopes ...[]byte) ([]string, error) {
	ids, err := s.Current().Publish(ctx, tenant, invocationID, ttl, envelopes)
	return ids, redisconn.Classify(err)
}

// PublishBatch appends several invocations' envelopes in one MULTI (sdk.BatchPublisher).
func (s *Server) PublishBatch(ctx context.Context, items []sdk.PublishItem) []sdk.PublishResult {
	res := s.Current().PublishBatch(ctx, items)
	for i := range res {
		res[i].Err = redisconn.Classify(res[i].Err)
	}
	return res
}

// Read calls fn for an invocation's events after afterID until done.
func (s *Server) Read(ctx context.Context, tenant, invocationID, afterID string, follow bool, fn func(sdk.Event) error) error {
	return redisconn.Classify(s.Current().Read(ctx, tenant, invocationID, afterID, follow, func(e stream.Event) error {
		return fn(sdk.Event{ID: e.ID, Envelope: e.Envelope})
	}))
}

// Expire sets the time to live of an invocation's log.
func (s *Server) Expire(ctx context.Context, tenant, invocationID string, ttl time.Duration) error {
	return redisconn.Classify(s.Current().Expire(ctx, tenant, invocationID, ttl))
}
