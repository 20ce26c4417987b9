package driver_test

import (
	"os"
	"testing"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk/plugintest"
)

// TestMessagingConformanceExternal runs the messaging suite against a codeQ server the
// caller runs, with the driver config in SOUS_CODEQ_EXTERNAL_CONFIG (JSON of
// plugins.messaging.codeq, e.g. addresses, producer/worker/admin tokens). Unset, it is
// skipped: `make test` runs the same suite against the embedded broker.
func TestMessagingConformanceExternal(t *testing.T) {
	cfg := os.Getenv("SOUS_CODEQ_EXTERNAL_CONFIG")
	if cfg == "" {
		t.Skip("SOUS_CODEQ_EXTERNAL_CONFIG is not set: no external codeQ server to test against")
	}
	tg := plugintest.Target{Path: testenv.Plugin(t, "messaging-codeq"), Config: cfg}
	plugintest.Messaging(t, tg, plugintest.MessagingOptions{SharedTenantQueues: true, BackendPicksIDs: true})
}
