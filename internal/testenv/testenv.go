// Package testenv gives tests the real parts they run against: the repository root,
// built plugin and host binaries, Bun, Python and a private redis-server.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// RepoRoot returns the repository root (the directory holding go.mod).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var (
	buildMu  sync.Mutex
	buildDir string
)

// Binary returns the path of a binary built from the package dir pkg (relative to the
// repo root) named name. With SOUS_BIN_DIR set (make test sets it) a binary already
// there is used; otherwise it is built once per test process.
func Binary(t testing.TB, pkg, name string) string {
	t.Helper()
	if d := os.Getenv("SOUS_BIN_DIR"); d != "" {
		for _, p := range []string{filepath.Join(d, name), filepath.Join(d, "plugins", name), filepath.Join(d, "example-plugins", name)} {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir == "" {
		d, err := os.MkdirTemp("", "sous-testbin-")
		if err != nil {
			t.Fatalf("temp dir: %v", err)
		}
		buildDir = d
	}
	out := filepath.Join(buildDir, name)
	if _, err := os.Stat(out); err == nil {
		return out
	}
	cmd := exec.Command("go", "build", "-o", out, "./"+pkg)
	cmd.Dir = RepoRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// Plugin returns the path of the in-tree plugin binary sous-plugin-<name>.
func Plugin(t testing.TB, name string) string {
	return Binary(t, "internal/plugins/"+name, "sous-plugin-"+name)
}

// Sous returns the path of the host binary.
func Sous(t testing.TB) string { return Binary(t, "cmd/sous", "sous") }

// Bun returns the Bun binary: $SOUS_BUN, the project-local npm install, or PATH.
// The test is skipped only when SOUS_ALLOW_SKIP is set; otherwise a missing Bun fails.
func Bun(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SOUS_BUN"); p != "" {
		return p
	}
	local := filepath.Join(RepoRoot(), "node_modules", ".bin", "bun")
	if _, err := os.Stat(local); err == nil {
		return local
	}
	if p, err := exec.LookPath("bun"); err == nil {
		return p
	}
	missing(t, "bun (run `make tools`)")
	return ""
}

var (
	pyOnce sync.Once
	pyPath string
	pyErr  error
)

// Python returns the real python3 interpreter (resolving pyenv shims once).
func Python(t testing.TB) string {
	t.Helper()
	pyOnce.Do(func() {
		out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
		if err != nil {
			pyErr = fmt.Errorf("resolve python3: %w", err)
			return
		}
		pyPath = strings.TrimSpace(string(out))
	})
	if pyErr != nil {
		missing(t, pyErr.Error())
	}
	return pyPath
}

func missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("SOUS_ALLOW_SKIP") != "" {
		t.Skipf("missing %s", what)
	}
	t.Fatalf("missing %s", what)
}
