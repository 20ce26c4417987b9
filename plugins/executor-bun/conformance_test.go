package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk/plugintest"
)

func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return string(b)
}

// Fixtures returns the Bun sources for the executor conformance suite.
func Fixtures(t testing.TB) plugintest.ExecutorFixtures {
	f := func(n string) string { return fixture(t, n) }
	return plugintest.ExecutorFixtures{
		Runtime: "bun", Entry: "main.ts",
		Echo: f("echo.ts"), Async: f("async.ts"), Generator: f("generator.ts"),
		AsyncGenerator: f("asyncgen.ts"), AsyncGeneratorResult: `"end"`,
		SubdirFiles: map[string]string{"lib/main.ts": f("subdir/lib/main.ts"), "lib/helper.ts": f("subdir/lib/helper.ts")},
		SubdirEntry: "lib/main.ts",
		SyntaxError: f("syntax.ts"), SyntaxErrorLine: 2,
		Throws: f("throws.ts"), NonSerializable: f("nonserializable.ts"),
		ExitMidRun: f("exit.ts"), ExitKind: "crash", SelfKill: f("selfkill.ts"),
		Hang: f("hang.ts"), MemoryHog: f("memhog.ts"), BigResult: f("bigresult.ts"),
		LogFlood: f("logflood.ts"), EnvProbe: f("envprobe.ts"), CtxEcho: f("ctx.ts"),
	}
}

func target(t testing.TB) plugintest.Target {
	cfg, _ := json.Marshal(map[string]string{"bun": testenv.Bun(t)})
	return plugintest.Target{Path: testenv.Plugin(t, "executor-bun"), Config: string(cfg)}
}

func TestConformance(t *testing.T) {
	plugintest.Executor(t, target(t), Fixtures(t))
}
