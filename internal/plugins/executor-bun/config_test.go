package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk/plugintest"
)

func TestConfigureMissingBunFailsClearly(t *testing.T) {
	tg := target(t)
	tg.Config = `{"bun":"/nonexistent/bun"}`
	if _, err := plugintest.TryExecutor(t, tg); err == nil || !strings.Contains(err.Error(), "/nonexistent/bun") || !strings.Contains(err.Error(), "config key bun") {
		t.Fatalf("want an error naming the configured bun, got %v", err)
	}
	tg.Config = `{"bun_path":"x"}`
	if _, err := plugintest.TryExecutor(t, tg); err == nil || !strings.Contains(err.Error(), `unknown key "bun_path"`) {
		t.Fatalf("want an unknown key error, got %v", err)
	}
}

// TestFindsProjectLocalBun lays the plugin out as `make` does (<repo>/bin/plugins next
// to <repo>/node_modules/.bin/bun) with no bun on PATH and no config key.
func TestFindsProjectLocalBun(t *testing.T) {
	repo := t.TempDir()
	for _, d := range []string{"bin/plugins", "node_modules/.bin"} {
		if err := os.MkdirAll(filepath.Join(repo, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin, err := os.ReadFile(testenv.Plugin(t, "executor-bun"))
	if err != nil {
		t.Fatal(err)
	}
	plugin := filepath.Join(repo, "bin/plugins/sous-plugin-executor-bun")
	if err := os.WriteFile(plugin, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(repo, "node_modules/.bin/bun")
	if err := os.Symlink(testenv.Bun(t), local); err != nil {
		t.Fatal(err)
	}
	c, err := plugintest.TryExecutor(t, plugintest.Target{Path: plugin, Config: `{}`, Env: []string{"PATH=/usr/bin:/bin"}})
	if err != nil {
		t.Fatalf("configure without bun key: %v", err)
	}
	if got := plugintest.RuntimePath(t, c); got != local {
		t.Fatalf("resolved bun %q, want the project-local %q", got, local)
	}
}
