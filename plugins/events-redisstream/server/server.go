// Package server is the gRPC face of the events-redisstream plugin: Base (configure,
// health) and Events over the stream package.
package server

import (
	"context"
	"errors"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/internal/redisconn"
	"github.com/sous-run/sous/plugins/events-redisstream/stream"
	"github.com/sous-run/sous/sdk"
	basepb "github.com/sous-run/sous/sdk/proto/base"
	eventspb "github.com/sous-run/sous/sdk/proto/events"
)

// Version is the plugin's own version.
const Version = "0.1.0"

// Server serves Base and Events.
type Server struct {
	eventspb.UnimplementedEventsServer
	log hclog.Logger
	h   redisconn.Holder[*stream.Log]
}

// New returns an unconfigured server.
func New(log hclog.Logger) *Server { return &Server{log: log} }

// SDK returns what sdk.Serve needs.
func (s *Server) SDK() *sdk.Server {
	info := &basepb.PluginInfo{Kind: sdk.KindEvents, Driver: "redisstream", PluginVersion: Version,
		ApiVersions: []int32{sdk.APIVersion}, Description: "per-invocation event logs on Redis Streams"}
	return &sdk.Server{Kind: sdk.KindEvents, Base: redisconn.NewBase(info, s), Events: s}
}

// Configure parses the config subtree, connects and swaps in the new log.
func (s *Server) Configure(ctx context.Context, raw []byte) error {
	cfg := stream.DefaultConfig()
	if err := redisconn.Parse(stream.Section, raw, &cfg); err != nil {
		return err
	}
	return s.h.Connect(ctx, stream.Section, &cfg.Conn, s.log, func(cl *redisconn.Clients) *stream.Log { return stream.New(cfg, cl) })
}

// Ping probes Redis.
func (s *Server) Ping(ctx context.Context) error { return s.h.Ping(ctx) }

func (s *Server) logFor() (*stream.Log, error) {
	l, ok := s.h.Get()
	if !ok {
		return nil, status.Error(codes.FailedPrecondition, "events-redisstream is not configured: call Configure first")
	}
	return l, nil
}

// Publish appends envelopes and returns their ids.
func (s *Server) Publish(ctx context.Context, req *eventspb.PublishRequest) (*eventspb.PublishResponse, error) {
	l, err := s.logFor()
	if err != nil {
		return nil, err
	}
	ids, err := l.Publish(ctx, req.Tenant, req.InvocationId, req.Envelopes)
	if err != nil {
		return nil, grpcErr(err)
	}
	return &eventspb.PublishResponse{Ids: ids}, nil
}

// Read streams an invocation's events after after_id until done.
func (s *Server) Read(req *eventspb.ReadRequest, srv eventspb.Events_ReadServer) error {
	l, err := s.logFor()
	if err != nil {
		return err
	}
	err = l.Read(srv.Context(), req.Tenant, req.InvocationId, req.AfterId, !req.NoFollow, func(e stream.Event) error {
		return srv.Send(&eventspb.Event{Id: e.ID, Envelope: e.Envelope})
	})
	return grpcErr(err)
}

// Expire sets the time to live of an invocation's log.
func (s *Server) Expire(ctx context.Context, req *eventspb.ExpireRequest) (*eventspb.ExpireResponse, error) {
	l, err := s.logFor()
	if err != nil {
		return nil, err
	}
	if err := l.Expire(ctx, req.Tenant, req.InvocationId, time.Duration(req.TtlSeconds)*time.Second); err != nil {
		return nil, grpcErr(err)
	}
	return &eventspb.ExpireResponse{}, nil
}

func grpcErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, stream.ErrInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case redisconn.IsConnErr(err):
		return status.Error(codes.Unavailable, "redis unavailable: "+err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}
