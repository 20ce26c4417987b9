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

// Fixtures returns the Python sources for the executor conformance suite.
func Fixtures(t testing.TB) plugintest.ExecutorFixtures {
	f := func(n string) string { return fixture(t, n) }
	return plugintest.ExecutorFixtures{
		Runtime: "python", Entry: "main.py",
		Echo: f("echo.py"), Async: f("async.py"), Generator: f("generator.py"),
		AsyncGenerator: f("asyncgen.py"), AsyncGeneratorResult: `null`,
		SubdirFiles: map[string]string{"lib/main.py": f("subdir/lib/main.py"), "lib/helper.py": f("subdir/lib/helper.py")},
		SubdirEntry: "lib/main.py",
		SyntaxError: f("syntax.py"), SyntaxErrorLine: 2,
		Throws: f("throws.py"), NonSerializable: f("nonserializable.py"),
		ExitMidRun: f("exit.py"), ExitKind: "user", HardExit: f("hardexit.py"), SelfKill: f("selfkill.py"),
		Hang: f("hang.py"), MemoryHog: f("memhog.py"), BigResult: f("bigresult.py"),
		LogFlood: f("logflood.py"), EnvProbe: f("envprobe.py"), CtxEcho: f("ctx.py"),
	}
}

func target(t testing.TB) plugintest.Target {
	cfg, _ := json.Marshal(map[string]string{"python": testenv.Python(t)})
	return plugintest.Target{Path: testenv.Plugin(t, "executor-python"), Config: string(cfg)}
}

func TestConformance(t *testing.T) {
	plugintest.Executor(t, target(t), Fixtures(t))
}
