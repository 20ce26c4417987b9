package driver_test

import (
	"strings"
	"testing"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/plugintest"
)

// launchRaw starts the plugin without configuring it.
func launchRaw(t *testing.T) *plugintest.Plugin {
	t.Helper()
	return plugintest.Start(t, plugintest.Target{Path: testenv.Plugin(t, "messaging-codeq")}, sdk.KindMessaging)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
