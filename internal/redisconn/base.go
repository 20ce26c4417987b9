package redisconn

import (
	"context"
	"errors"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	basepb "github.com/sous-run/sous/sdk/proto/base"
)

// ConfigError marks a Configure failure caused by the config itself (answered with
// InvalidArgument); any other Configure error is answered with Unavailable.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Driver is what a Redis plugin plugs into Base: apply a config subtree and probe Redis.
type Driver interface {
	// Configure parses raw, connects and replaces the driver's clients.
	Configure(ctx context.Context, raw []byte) error
	// Ping probes every client the driver uses; nil when not configured yet is not allowed.
	Ping(ctx context.Context) error
}

// Base serves the Base service of a Redis plugin.
type Base struct {
	basepb.UnimplementedBaseServer
	info   *basepb.PluginInfo
	driver Driver

	mu         sync.Mutex
	configured bool
}

// NewBase returns the Base service for a driver.
func NewBase(info *basepb.PluginInfo, d Driver) *Base { return &Base{info: info, driver: d} }

// Info says what the plugin is.
func (b *Base) Info(context.Context, *basepb.InfoRequest) (*basepb.PluginInfo, error) {
	return b.info, nil
}

// Configure applies the config subtree; a bad config is InvalidArgument, an unreachable
// server Unavailable, both with a message saying what to fix.
func (b *Base) Configure(ctx context.Context, req *basepb.ConfigureRequest) (*basepb.ConfigureResponse, error) {
	if err := b.driver.Configure(ctx, req.GetConfigJson()); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	b.mu.Lock()
	b.configured = true
	b.mu.Unlock()
	return &basepb.ConfigureResponse{}, nil
}

// Health pings Redis; unhealthy with the reason while it is down or refuses us.
func (b *Base) Health(ctx context.Context, _ *basepb.HealthRequest) (*basepb.HealthResponse, error) {
	b.mu.Lock()
	ok := b.configured
	b.mu.Unlock()
	if !ok {
		return &basepb.HealthResponse{Healthy: false, Reason: "not configured: Configure has not succeeded yet"}, nil
	}
	if err := b.driver.Ping(ctx); err != nil {
		return &basepb.HealthResponse{Healthy: false, Reason: err.Error()}, nil
	}
	return &basepb.HealthResponse{Healthy: true}, nil
}
