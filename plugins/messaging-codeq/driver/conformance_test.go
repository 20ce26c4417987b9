package driver_test

import (
	"testing"

	"github.com/sous-run/sous/sdk/plugintest"
)

// TestMessagingConformance runs the generic messaging suite against the codeq plugin
// binary and its embedded broker — the same suite messaging-redis passes.
func TestMessagingConformance(t *testing.T) {
	plugintest.Messaging(t, conformanceTarget(t), plugintest.MessagingOptions{})
}
