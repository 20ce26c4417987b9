package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/plugintest"
)

// unprivileged is the plugin started as uid 65534 (setpriv), where namespaces
// cannot be made: the machine without a working sandbox.
func unprivileged(t *testing.T, sandbox string) plugintest.Target {
	t.Helper()
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("setpriv (util-linux) is needed: %v", err)
	}
	dir, err := os.MkdirTemp("", "sous-unprivileged-") // t.TempDir's parent is 0700
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	wrapper := filepath.Join(dir, "plugin")
	script := "#!/bin/sh\nexec " + setpriv + " --reuid=65534 --regid=65534 --clear-groups " + testenv.Plugin(t, "executor-bun") + "\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]string{"bun": testenv.Bun(t), "sandbox": sandbox})
	return plugintest.Target{Path: wrapper, Config: string(cfg), DataDir: dir}
}

// sandbox: required refuses to configure without a working sandbox, saying what it needs.
func TestSandboxRequiredRefuses(t *testing.T) {
	_, err := plugintest.TryExecutor(t, unprivileged(t, "required"))
	if err == nil || !strings.Contains(err.Error(), "sandbox is required") || !strings.Contains(err.Error(), "needs") {
		t.Fatalf("want a refusal naming what the sandbox needs, got %v", err)
	}
}

// sandbox: auto falls back (one loud log line) and still runs functions.
func TestSandboxAutoFallsBack(t *testing.T) {
	c, err := plugintest.TryExecutor(t, unprivileged(t, "auto"))
	if err != nil {
		t.Fatalf("auto: %v", err)
	}
	h, err := c.Health(context.Background())
	if err != nil || h.Details["sandbox"] != "off" {
		t.Fatalf("health: %v %v", h, err)
	}
	spec := plugintest.NewFunc("bun", "main.ts", map[string]string{"main.ts": "export default (x: unknown) => x;"}, nil, sdk.Limits{})
	plugintest.Prepare(t, c.Executor, spec)
	plugintest.WantResult(t, plugintest.Exec(t, c.Executor, spec.Digest, `{"a":1}`, plugintest.RunOpts{}), `{"a":1}`)
}
