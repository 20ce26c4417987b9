// Package server is the messaging-redis driver: sdk.Messaging over the queue package.
package server

import (
	"context"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/redisconn"
	"github.com/sous-run/sous/plugins/messaging-redis/queue"
	"github.com/sous-run/sous/sdk"
)

// Version is the plugin's own version.
const Version = "0.1.0"

// Server is the driver: Base and Messaging.
type Server struct {
	log hclog.Logger
	h   redisconn.Holder[*queue.Queue]
}

// New returns an unconfigured server.
func New(log hclog.Logger) *Server { return &Server{log: log} }

// Info says what the plugin is.
func (s *Server) Info() sdk.Info {
	return sdk.Info{Kind: sdk.KindMessaging, Driver: "redis", Version: Version,
		Description: "reliable at-least-once task queue on Redis"}
}

// Configure parses the config subtree, connects and swaps in the new queue.
func (s *Server) Configure(ctx context.Context, c sdk.Config) error {
	cfg := queue.DefaultConfig()
	if err := redisconn.Parse(queue.Section, c.JSON, &cfg); err != nil {
		return err
	}
	return s.h.Connect(ctx, queue.Section, &cfg.Conn, s.log, func(cl *redisconn.Clients) *queue.Queue { return queue.New(cfg, cl) })
}

// Health pings Redis.
func (s *Server) Health(ctx context.Context) sdk.Health { return s.h.Health(ctx) }

// queue returns the current queue; the SDK calls nothing else before Configure.
func (s *Server) queue() *queue.Queue {
	q, _ := s.h.Get()
	return q
}
