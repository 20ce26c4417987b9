package main

import (
	"testing"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk/plugintest"
)

// TestConformance runs the generic events suite against the example binary, as a
// third-party author would against theirs.
func TestConformance(t *testing.T) {
	plugintest.Events(t, plugintest.Target{Path: testenv.Binary(t, "examples/plugins/events-memory", "events-memory")})
}
