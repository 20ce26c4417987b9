package sdk

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	basepb "github.com/sous-run/sous/sdk/proto/base"
)

// notConfiguredReason is Health's answer until Configure has succeeded.
const notConfiguredReason = "not configured: Configure has not succeeded yet"

// baseServer serves Base for a driver and gates its other calls until Configure has
// succeeded once.
type baseServer struct {
	basepb.UnimplementedBaseServer
	b          Base
	configured atomic.Bool
}

func (s *baseServer) Info(context.Context, *basepb.InfoRequest) (*basepb.PluginInfo, error) {
	return infoToWire(s.b.Info()), nil
}

// Configure hands the config to the driver. An error wrapping ErrInvalid is
// InvalidArgument (a bad config); ErrRefused keeps FailedPrecondition (e.g. a second
// Configure the driver cannot take); any other is Unavailable.
func (s *baseServer) Configure(ctx context.Context, req *basepb.ConfigureRequest) (*basepb.ConfigureResponse, error) {
	err := s.b.Configure(ctx, configFromWire(req))
	switch {
	case err == nil:
		s.configured.Store(true)
		return &basepb.ConfigureResponse{}, nil
	case errors.Is(err, ErrInvalid):
		return nil, status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, ErrRefused):
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	return nil, status.Error(codes.Unavailable, err.Error())
}

func (s *baseServer) Health(ctx context.Context, _ *basepb.HealthRequest) (*basepb.HealthResponse, error) {
	if !s.configured.Load() {
		return &basepb.HealthResponse{Healthy: false, Reason: notConfiguredReason}, nil
	}
	return healthToWire(s.b.Health(ctx)), nil
}

// ready is the not-configured gate: nil once Configure has succeeded, else
// ErrNotConfigured (FailedPrecondition) naming the plugin.
func (s *baseServer) ready() error {
	if s.configured.Load() {
		return nil
	}
	i := s.b.Info()
	return ToStatus(fmt.Errorf("%s %s: %w", i.Kind, i.Driver, ErrNotConfigured))
}
