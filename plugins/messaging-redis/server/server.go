// Package server is the gRPC face of the messaging-redis plugin: Base (configure,
// health) and Messaging over the queue package.
package server

import (
	"context"
	"errors"
	"fmt"

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
	h   redisconn.Holder[*queue.Queue]
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
	cfg := queue.DefaultConfig()
	if err := redisconn.Parse(queue.Section, raw, &cfg); err != nil {
		return err
	}
	return s.h.Connect(ctx, queue.Section, &cfg.Conn, s.log, func(cl *redisconn.Clients) *queue.Queue { return queue.New(cfg, cl) })
}

// Ping probes Redis.
func (s *Server) Ping(ctx context.Context) error { return s.h.Ping(ctx) }

func (s *Server) queue() (*queue.Queue, error) {
	q, ok := s.h.Get()
	if !ok {
		return nil, status.Error(codes.FailedPrecondition, "messaging-redis is not configured: call Configure first")
	}
	return q, nil
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
