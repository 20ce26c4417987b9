package main

import (
	"encoding/json"
	"testing"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk/plugintest"
)

// target is the real plugin binary, in the sandbox, configured with the real Python interpreter.
func target(t testing.TB) plugintest.Target {
	return targetWith(t, "required")
}

// targetWith is the plugin configured with the given sandbox mode.
func targetWith(t testing.TB, sandbox string) plugintest.Target {
	cfg, _ := json.Marshal(map[string]string{"python": testenv.Python(t), "sandbox": sandbox})
	return plugintest.Target{Path: testenv.Plugin(t, "executor-python"), Config: string(cfg)}
}

func TestConformance(t *testing.T) {
	fx := plugintest.LoadFixtures(t, "testdata", "py")
	// Python cannot return a value from an async generator: its result is null.
	fx.Runtime, fx.AsyncGeneratorResult, fx.SyntaxErrorLine = "python", `null`, 2
	fx.ExitKind = "user" // sys.exit raises SystemExit, reported as the function's error; os._exit is a crash
	plugintest.Executor(t, target(t), fx)
}

// TestConformanceUnsandboxed runs the suite with sandbox: none (the `sous dev`
// fallback on a machine without namespaces).
func TestConformanceUnsandboxed(t *testing.T) {
	fx := plugintest.LoadFixtures(t, "testdata", "py")
	fx.Runtime, fx.AsyncGeneratorResult, fx.SyntaxErrorLine = "python", `null`, 2
	fx.ExitKind = "user"
	plugintest.Executor(t, targetWith(t, "none"), fx)
}
