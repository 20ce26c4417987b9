package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk/plugintest"
)

// testConfig is the plugin config for a test Redis: short backoff so retries are quick.
func testConfig(r *testenv.Redis) string {
	return fmt.Sprintf(`{"url":%q,"prefix":"t","backoff_base":"100ms","backoff_max":"1s"}`, r.URL)
}

// TestConformance runs the generic messaging suite against the real plugin binary and
// a private redis-server (persistent, so the suite's restart check runs too).
func TestConformance(t *testing.T) {
	r := testenv.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	plugintest.Messaging(t, plugintest.Target{Path: testenv.Plugin(t, "messaging-redis"), Config: testConfig(r)},
		plugintest.MessagingOptions{Lease: 2 * time.Second, StopBackend: r.Kill, StartBackend: r.Start})
}
