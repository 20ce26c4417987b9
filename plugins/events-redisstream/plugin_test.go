package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/internal/redisconn/conftest"
	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/plugintest"
	eventspb "github.com/sous-run/sous/sdk/proto/events"
)

// TestConformance runs the generic events suite against the real plugin binary and a
// private redis-server.
func TestConformance(t *testing.T) {
	r := testenv.StartRedis(t)
	plugintest.Events(t, plugintest.Target{Path: testenv.Plugin(t, "events-redisstream"), Config: fmt.Sprintf(`{"url":%q}`, r.URL)})
}

func TestConfigErrors(t *testing.T) {
	conftest.Run(t, testenv.Plugin(t, "events-redisstream"), sdk.KindEvents)
}

func TestOversizeEnvelopeRefused(t *testing.T) {
	r := testenv.StartRedis(t)
	cfg := fmt.Sprintf(`{"url":%q,"max_envelope_bytes":64}`, r.URL)
	c := plugintest.Launch(t, plugintest.Target{Path: testenv.Plugin(t, "events-redisstream"), Config: cfg}, sdk.KindEvents)
	big := []byte(`{"type":"chunk","data":"` + strings.Repeat("a", 100) + `","seq":1}`)
	_, err := c.Events.Publish(context.Background(), &eventspb.PublishRequest{Tenant: "acme", InvocationId: "i1", Envelopes: [][]byte{big}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "max_envelope_bytes 64") {
		t.Fatalf("oversize Publish: %v; want InvalidArgument naming max_envelope_bytes", err)
	}
}
