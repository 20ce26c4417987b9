// Package server is the gRPC face of the messaging-redis plugin: Base (configure,
// health) and Messaging over the queue package.
package server

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/internal/redisconn"
	"github.com/sous-run/sous/plugins/messaging-redis/queue"
	"github.com/sous-run/sous/sdk"
	basepb "github.com/sous-run/sous/sdk/proto/base"
	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

// Version is the plugin's own version.
const Version = "0.1.0"

// Server serves Base and Messaging.
type Server struct {
	messagingpb.UnimplementedMessagingServer
	log hclog.Logger

	mu sync.RWMutex
	q  *queue.Queue
	cl *redisconn.Clients
}

// New returns an unconfigured server.
func New(log hclog.Logger) *Server { return &Server{log: log} }

// SDK returns what sdk.Serve needs.
func (s *Server) SDK() *sdk.Server {
	info := &basepb.PluginInfo{Kind: sdk.KindMessaging, Driver: "redis", PluginVersion: Version,
		ApiVersions: []int32{sdk.APIVersion}, Description: "reliable at-least-once task queue on Redis"}
	return &sdk.Server{Kind: sdk.KindMessaging, Base: redisconn.NewBase(info, s), Messaging: s}
}

// Configure parses the config subtree, connects and swaps in the new queue.
func (s *Server) Configure(ctx context.Context, raw []byte) error {
	cfg, err := queue.ParseConfig(raw)
	if err != nil {
		return &redisconn.ConfigError{Err: err}
	}
	cl, err := cfg.Dial(ctx, queue.Section)
	if err != nil {
		return err
	}
	s.mu.Lock()
	old := s.cl
	s.q, s.cl = queue.New(cfg, cl), cl
	s.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	s.log.Info("configured", "addr", cl.Cmd.Options().Addr, "prefix", cfg.Prefix)
	return nil
}

// Ping probes Redis.
func (s *Server) Ping(ctx context.Context) error {
	s.mu.RLock()
	cl := s.cl
	s.mu.RUnlock()
	if cl == nil {
		return errors.New("not configured")
	}
	return redisconn.Ping(ctx, cl.Cmd)
}

func (s *Server) queue() (*queue.Queue, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.q == nil {
		return nil, status.Error(codes.FailedPrecondition, "messaging-redis is not configured: call Configure first")
	}
	return s.q, nil
}

// grpcErr maps queue errors to gRPC codes, keeping the message.
func grpcErr(err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, queue.ErrInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, queue.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, queue.ErrStale):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case redisconn.IsConnErr(err):
		return status.Error(codes.Unavailable, fmt.Sprintf("redis unavailable: %v", err))
	}
	return status.Error(codes.Internal, err.Error())
}
