package driver_test

import (
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
)

// launchRaw starts the plugin without configuring it.
func launchRaw(t *testing.T) *sdk.Conn {
	t.Helper()
	c, err := sdk.Open(ctxT(t), sdk.OpenOptions{Path: testenv.Plugin(t, "messaging-codeq"), Kind: sdk.KindMessaging,
		Logger: hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Warn})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Kill)
	return c
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
