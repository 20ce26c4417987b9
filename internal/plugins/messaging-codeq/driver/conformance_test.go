package driver_test

import (
	"testing"

	"github.com/sous-run/sous/sdk/plugintest"
)

// TestMessagingConformance runs the generic messaging suite against the codeq plugin
// binary and its embedded broker — the same suite messaging-redis passes. All Sous
// tenants share the token's one codeQ tenant, so queues are shared across tenants
// (see the README): the suite checks tenant scoping of keys, results and leases only.
func TestMessagingConformance(t *testing.T) {
	plugintest.Messaging(t, conformanceTarget(t), plugintest.MessagingOptions{SharedTenantQueues: true})
}
