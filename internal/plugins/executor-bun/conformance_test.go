package main

import (
	"encoding/json"
	"testing"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk/plugintest"
)

// target is the real plugin binary, in the sandbox, configured with the real Bun.
func target(t testing.TB) plugintest.Target {
	return targetWith(t, "required")
}

// targetWith is the plugin configured with the given sandbox mode.
func targetWith(t testing.TB, sandbox string) plugintest.Target {
	cfg, _ := json.Marshal(map[string]string{"bun": testenv.Bun(t), "sandbox": sandbox})
	return plugintest.Target{Path: testenv.Plugin(t, "executor-bun"), Config: string(cfg)}
}

func TestConformance(t *testing.T) {
	fx := plugintest.LoadFixtures(t, "testdata", "ts")
	fx.Runtime, fx.AsyncGeneratorResult, fx.SyntaxErrorLine = "bun", `"end"`, 2
	fx.ExitKind = "crash" // process.exit ends the process: a crash, and the process is replaced
	plugintest.Executor(t, target(t), fx)
}
