// Package server is the events-redisstream driver: sdk.Events over the stream package.
package server

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/redisconn"
	"github.com/sous-run/sous/plugins/events-redisstream/stream"
	"github.com/sous-run/sous/sdk"
)

// Version is the plugin's own version.
const Version = "0.1.0"

// Server is the driver: Base and the event log.
type Server struct {
	log hclog.Logger
	h   redisconn.Holder[*stream.Log]
}

// New returns an unconfigured server.
func New(log hclog.Logger) *Server { return &Server{log: log} }

// Info says what the plugin is.
func (s *Server) Info() sdk.Info {
	return sdk.Info{Kind: sdk.KindEvents, Driver: "redisstream", Version: Version,
		Description: "per-invocation event logs on Redis Streams"}
}

// Configure parses the config subtree, connects and swaps in the new log.
func (s *Server) Configure(ctx context.Context, c sdk.Config) error {
	cfg := stream.DefaultConfig()
	if err := redisconn.Parse(stream.Section, c.JSON, &cfg); err != nil {
		return err
	}
	return s.h.Connect(ctx, stream.Section, &cfg.Conn, s.log, func(cl *redisconn.Clients) *stream.Log { return stream.New(cfg, cl) })
}

// Health pings Redis.
func (s *Server) Health(ctx context.Context) sdk.Health { return s.h.Health(ctx) }

// logFor returns the current log; the SDK calls nothing else before Configure.
func (s *Server) logFor() *stream.Log {
	l, _ := s.h.Get()
	return l
}

// Publish appends envelopes and returns their ids.
func (s *Server) Publish(ctx context.Context, tenant, invocationID string, envelopes ...[]byte) ([]string, error) {
	ids, err := s.logFor().Publish(ctx, tenant, invocationID, envelopes)
	return ids, redisconn.Classify(err)
}

// Read calls fn for an invocation's events after afterID until done.
func (s *Server) Read(ctx context.Context, tenant, invocationID, afterID string, follow bool, fn func(sdk.Event) error) error {
	return redisconn.Classify(s.logFor().Read(ctx, tenant, invocationID, afterID, follow, func(e stream.Event) error {
		return fn(sdk.Event{ID: e.ID, Envelope: e.Envelope})
	}))
}

// Expire sets the time to live of an invocation's log.
func (s *Server) Expire(ctx context.Context, tenant, invocationID string, ttl time.Duration) error {
	return redisconn.Classify(s.logFor().Expire(ctx, tenant, invocationID, ttl))
}
