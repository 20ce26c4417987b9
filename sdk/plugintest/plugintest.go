// Package plugintest holds the conformance suites a plugin must pass, one per kind:
// Messaging, Executor and Events. A plugin author runs the suite of their kind against
// their own binary from a Go test:
//
//	func TestConformance(t *testing.T) {
//		plugintest.Events(t, plugintest.Target{Path: "./bin/my-plugin", Config: `{"url":"…"}`})
//	}
//
// Every suite launches the real binary through go-plugin, exactly as the host does.
package plugintest

import (
	"context"
	"os"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/sdk"
)

// Target names the plugin binary under test and the config subtree it is given.
type Target struct {
	Path    string   // the plugin binary
	Config  string   // JSON object passed to Configure ("" = {})
	DataDir string   // host data dir passed to Configure ("" = a temp dir)
	Env     []string // extra environment for the plugin process
}

// Launch starts the target's binary as a plugin of the given kind, configures it and
// kills it when the test ends.
func Launch(t testing.TB, tg Target, kind string) *sdk.Conn {
	t.Helper()
	ctx := context.Background()
	logger := hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: os.Stderr, Level: hclog.Warn})
	c, err := sdk.Open(ctx, sdk.OpenOptions{Path: tg.Path, Kind: kind, Env: tg.Env, Logger: logger})
	if err != nil {
		t.Fatalf("launch %s plugin %s: %v", kind, tg.Path, err)
	}
	t.Cleanup(c.Kill)
	dir := tg.DataDir
	if dir == "" {
		dir = t.TempDir()
	}
	if err := c.Configure(ctx, []byte(tg.Config), dir); err != nil {
		t.Fatalf("configure %s: %v", tg.Path, err)
	}
	return c
}
