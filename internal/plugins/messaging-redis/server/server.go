// Package server is the messaging-redis driver: sdk.Messaging over the queue package.
package server

import (
	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/plugins/messaging-redis/queue"
	"github.com/sous-run/sous/internal/redisconn"
	"github.com/sous-run/sous/sdk"
)

// Version is the plugin's own version.
const Version = "0.1.0"

// Server is the driver: Base (redisconn.Plugin) and Messaging.
type Server struct {
	*redisconn.Plugin[*queue.Queue]
	takers takers // this plugin's consumers waiting for a task
}

// New returns an unconfigured server.
func New(log hclog.Logger) *Server {
	info := sdk.Info{Kind: sdk.KindMessaging, Driver: "redis", Version: Version,
		Description: "reliable at-least-once task queue on Redis"}
	return &Server{Plugin: redisconn.NewPlugin(info, queue.Section, log, setup)}
}

// setup parses the config subtree over the defaults.
func setup(raw []byte) (*redisconn.Conn, func(*redisconn.Clients) *queue.Queue, error) {
	cfg := queue.DefaultConfig()
	if err := redisconn.Parse(queue.Section, raw, &cfg); err != nil {
		return nil, nil, err
	}
	return &cfg.Conn, func(cl *redisconn.Clients) *queue.Queue { return queue.New(cfg, cl) }, nil
}

// queue returns the current queue.
func (s *Server) queue() *queue.Queue { return s.Current() }
