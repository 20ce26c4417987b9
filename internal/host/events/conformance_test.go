package events_test

import (
	"context"
	"testing"

	"github.com/sous-run/sous/internal/host/events"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/plugintest"
)

// embeddedPlugin is the embedded log with the Base an events plugin adds, so it can be
// served over the SDK's gRPC shims.
type embeddedPlugin struct{ *events.Embedded }

func (embeddedPlugin) Info() sdk.Info {
	return sdk.Info{Kind: sdk.KindEvents, Driver: "embedded", Version: "test"}
}
func (embeddedPlugin) Configure(context.Context, sdk.Config) error { return nil }
func (embeddedPlugin) Health(context.Context) sdk.Health           { return sdk.Health{Healthy: true} }

// TestEmbeddedConformance runs the events plugins' conformance suite against the
// embedded log, served in-process through the same shims a plugin binary uses.
func TestEmbeddedConformance(t *testing.T) {
	e := events.NewEmbedded(events.EmbeddedOptions{})
	t.Cleanup(e.Close)
	plugintest.Events(t, plugintest.Target{InProcess: &sdk.Plugin{Events: embeddedPlugin{e}}})
}
