package server

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/host/codecheck"
	"github.com/sous-run/sous/internal/host/config"
	"github.com/sous-run/sous/internal/plugins/executor-bun/bunrt"
	"github.com/sous-run/sous/internal/plugins/executor-python/pyrt"
)

// sourceChecker is the deploy-time syntax check for the configured runtimes,
// using the binaries the executors are configured with, found the way the
// executors find them (Bun: plugins.executor.bun.bun, $PATH, then the
// project-local npm install beside plugins.dir; Python: plugins.executor.python.python
// or python3, resolved once to the real interpreter).
func sourceChecker(cfg *config.Config, log hclog.Logger) *codecheck.Checker {
	setting := func(key string) string { s, _ := cfg.Get(key).(string); return s }
	find := map[string]func() (string, error){}
	if slices.Contains(cfg.Plugins.Executor.Drivers, "bun") {
		find["bun"] = func() (string, error) {
			bun := setting("plugins.executor.bun.bun")
			if bun == "" {
				if _, err := exec.LookPath("bun"); err != nil {
					local := filepath.Join(cfg.Plugins.Dir, "..", "..", "node_modules", ".bin", "bun")
					if _, err := os.Stat(local); err == nil {
						bun = local
					}
				}
			}
			return bunrt.Find(bun)
		}
	}
	if slices.Contains(cfg.Plugins.Executor.Drivers, "python") {
		find["python"] = func() (string, error) { return pyrt.Find(setting("plugins.executor.python.python")) }
	}
	return codecheck.New(find, func(runtime string, err error) {
		log.Warn("deploys of "+runtime+" functions are not syntax-checked: no runtime to parse with", "error", err)
	})
}
