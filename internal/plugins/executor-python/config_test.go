package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk/plugintest"
)

func TestConfigureMissingPythonFailsClearly(t *testing.T) {
	tg := target(t)
	tg.Config = `{"python":"/nonexistent/python3"}`
	if _, err := plugintest.TryExecutor(t, tg); err == nil || !strings.Contains(err.Error(), "/nonexistent/python3") {
		t.Fatalf("want an error naming the configured python, got %v", err)
	}
}

// TestResolvesRealInterpreter gives the python3 found on PATH (a pyenv shim on
// developer machines) and expects the plugin to run the real sys.executable.
func TestResolvesRealInterpreter(t *testing.T) {
	onPath, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 on PATH: %v", err)
	}
	tg := target(t)
	cfg, _ := json.Marshal(map[string]string{"python": onPath})
	tg.Config = string(cfg)
	c, err := plugintest.TryExecutor(t, tg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := plugintest.RuntimePath(t, c), testenv.Python(t); got != want {
		t.Fatalf("resolved %q, want the real interpreter %q", got, want)
	}
}
