// Package bunrt describes the Bun runtime to the harness kit: where Bun is found,
// the harness command line and the embedded runner.ts.
package bunrt

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/sous-run/sous/sdk/harness"
)

//go:embed runner.ts
var runner []byte

// Version is the plugin version.
const Version = "0.1.0"

// Runtime returns the Bun runtime description.
func Runtime() *harness.Runtime {
	return &harness.Runtime{
		Name: "bun", ConfigKey: "bun", RunnerFile: "runner.ts", Runner: runner, Version: Version,
		Find: Find,
		Args: func(interp, runner, codeDir, entry string) []string {
			return []string{interp, runner, codeDir, entry}
		},
		// Bun (JavaScriptCore) reserves tens of GB of address space at start, so
		// RLIMIT_AS cannot be used: the resident set is watched instead.
		Memory: harness.MemoryRSS,
	}
}

// Find resolves Bun: the configured path, then $PATH, then the project-local npm
// install next to the plugin binary (<repo>/bin/plugins/../../node_modules/.bin/bun).
func Find(configured string) (string, error) {
	if configured != "" {
		return check(configured, "config key bun")
	}
	if p, err := exec.LookPath("bun"); err == nil {
		return check(p, "$PATH")
	}
	if exe, err := os.Executable(); err == nil {
		local := filepath.Join(filepath.Dir(exe), "..", "..", "node_modules", ".bin", "bun")
		if _, err := os.Stat(local); err == nil {
			return check(filepath.Clean(local), "the project-local install")
		}
	}
	return "", fmt.Errorf("bun not found: set plugins.executor.bun.bun to the bun binary, put bun on $PATH, or run `make tools`")
}

func check(path, from string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("bun %s (from %s): %w", path, from, err)
	}
	out, err := exec.Command(abs, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("bun %s (from %s) does not run: %w", abs, from, err)
	}
	if len(out) == 0 {
		return "", fmt.Errorf("bun %s (from %s) printed no version", abs, from)
	}
	return abs, nil
}
