package sdk

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc"

	basepb "github.com/sous-run/sous/sdk/proto/base"
)

// infoTimeout bounds the Info call a client makes the first time it is asked.
const infoTimeout = 10 * time.Second

// baseClient is Base over a plugin connection.
type baseClient struct {
	c    basepb.BaseClient
	mu   sync.Mutex
	info *Info // cached after the first successful Info call
}

// NewBaseClient returns Base over a plugin connection. Info asks the plugin once and
// remembers the answer (a zero Info while it cannot be asked); Health folds a failed
// call into an unhealthy answer (HealthCheck keeps the error).
func NewBaseClient(cc grpc.ClientConnInterface) Base { return newBaseClient(cc) }

func newBaseClient(cc grpc.ClientConnInterface) *baseClient {
	return &baseClient{c: basepb.NewBaseClient(cc)}
}

func (b *baseClient) Info() Info {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.info != nil {
		return *b.info
	}
	ctx, cancel := context.WithTimeout(context.Background(), infoTimeout)
	defer cancel()
	p, err := b.c.Info(ctx, &basepb.InfoRequest{})
	if err != nil {
		return Info{}
	}
	info := InfoFromWire(p)
	b.info = &info
	return info
}

func (b *baseClient) Configure(ctx context.Context, c Config) error {
	_, err := b.c.Configure(ctx, configToWire(c))
	return FromStatus(err)
}

func (b *baseClient) Health(ctx context.Context) Health {
	h, err := healthCheck(ctx, b.c)
	if err != nil {
		return Health{Reason: err.Error()}
	}
	return h
}

// HealthCheck asks a plugin for its health; err is the call's own failure (the plugin
// did not answer), kept apart from an answer that says unhealthy.
func HealthCheck(ctx context.Context, cc grpc.ClientConnInterface) (Health, error) {
	return healthCheck(ctx, basepb.NewBaseClient(cc))
}

func healthCheck(ctx context.Context, c basepb.BaseClient) (Health, error) {
	r, err := c.Health(ctx, &basepb.HealthRequest{})
	if err != nil {
		return Health{}, FromStatus(err)
	}
	return healthFromWire(r), nil
}
