// Package pyrt describes the Python runtime to the harness kit: where the real
// interpreter is, the harness command line and the embedded runner.py.
package pyrt

import (
	_ "embed"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sous-run/sous/sdk/harness"
)

//go:embed runner.py
var runner []byte

// Version is the plugin version.
const Version = "0.1.0"

// Runtime returns the Python runtime description.
func Runtime() *harness.Runtime {
	return &harness.Runtime{
		Name: "python", ConfigKey: "python", RunnerFile: "runner.py", Runner: runner, Version: Version,
		Find: Find,
		Args: func(interp, runner, codeDir, entry string) []string {
			// -S: no site at start (its .pth import lines); runner.py adds the site dirs.
			return []string{interp, "-S", "-u", runner, codeDir, entry}
		},
		Mounts: Prefixes,
		Memory: harness.MemoryAddressSpace,
	}
}

// Prefixes returns the interpreter's installation prefixes (sys.prefix,
// sys.base_prefix, sys.exec_prefix): the standard library the sandbox must show.
func Prefixes(interp string) ([]string, error) {
	out, err := exec.Command(interp, "-c", "import sys; print(sys.prefix); print(sys.base_prefix); print(sys.exec_prefix)").Output()
	if err != nil {
		return nil, fmt.Errorf("python %s: ask for its prefixes: %w", interp, err)
	}
	var dirs []string
	for _, d := range strings.Fields(string(out)) {
		if filepath.IsAbs(d) && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs, nil
}

// Find resolves the real interpreter once: the configured path (or python3 on $PATH)
// is asked for sys.executable, so a pyenv shim (~600 ms a spawn) is never used per run.
func Find(configured string) (string, error) {
	from := "config key python"
	if configured == "" {
		p, err := exec.LookPath("python3")
		if err != nil {
			return "", fmt.Errorf("python3 not found on $PATH: set plugins.executor.python.python to a Python 3 interpreter")
		}
		configured, from = p, "$PATH"
	}
	out, err := exec.Command(configured, "-c", "import sys; print(sys.executable); assert sys.version_info >= (3, 8)").Output()
	if err != nil {
		return "", fmt.Errorf("python %s (from %s) is not a working Python >= 3.8: %w", configured, from, err)
	}
	exe := strings.TrimSpace(string(out))
	if exe == "" || !filepath.IsAbs(exe) {
		return "", fmt.Errorf("python %s (from %s) reports no sys.executable", configured, from)
	}
	return exe, nil
}
