package sdk

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	basepb "github.com/sous-run/sous/sdk/proto/base"
)

// fakeLog is an Events driver that records the calls it gets.
type fakeLog struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeLog) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeLog) Info() Info                              { return Info{Kind: KindEvents, Driver: "fake"} }
func (f *fakeLog) Configure(context.Context, Config) error { return nil }
func (f *fakeLog) Health(context.Context) Health           { return Health{Healthy: true} }
func (f *fakeLog) Publish(_ context.Context, _, _ string, envs ...[]byte) ([]string, error) {
	f.record(fmt.Sprintf("publish %d", len(envs)))
	return make([]string, len(envs)), nil
}
func (f *fakeLog) Read(context.Context, string, string, string, bool, func(Event) error) error {
	return nil
}
func (f *fakeLog) Expire(_ context.Context, _, _ string, ttl time.Duration) error {
	f.record("expire " + ttl.String())
	return nil
}

// lastLog is a fakeLog that publishes and sets the TTL in one call of its own.
type lastLog struct{ fakeLog }

func (l *lastLog) PublishLast(_ context.Context, _, _ string, ttl time.Duration, envs ...[]byte) ([]string, error) {
	l.record(fmt.Sprintf("publish %d, ttl %s", len(envs), ttl))
	return make([]string, len(envs)), nil
}

// PublishLast over the wire is one call that carries the TTL: a driver with its own
// PublishLast gets it; any other gets Publish then Expire; a plain Publish sets no TTL.
func TestPublishLastCarriesTheTTL(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		driver interface {
			Events
			recorded() []string
		}
		want []string
	}{
		{"driver without PublishLast", &fakeLog{}, []string{"publish 1", "publish 2", "expire 1m30s"}},
		{"driver with PublishLast", &lastLog{}, []string{"publish 1", "publish 2, ttl 1m30s"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc := servePlugin(t, Plugin{Events: c.driver})
			if _, err := basepb.NewBaseClient(cc).Configure(ctx, &basepb.ConfigureRequest{}); err != nil {
				t.Fatal(err)
			}
			cl := NewEventsClient(cc)
			if _, ok := cl.(LastPublisher); !ok {
				t.Fatal("a plugin's events client is not a LastPublisher")
			}
			if _, err := cl.Publish(ctx, "t", "i", []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			if ids, err := PublishLast(ctx, cl, "t", "i", 90*time.Second, []byte(`{}`), []byte(`{}`)); err != nil || len(ids) != 2 {
				t.Fatalf("PublishLast = %v, %v", ids, err)
			}
			if got := c.driver.recorded(); !slices.Equal(got, c.want) {
				t.Fatalf("driver calls %q; want %q", got, c.want)
			}
		})
	}
}

func (f *fakeLog) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}
