// Command sous-plugin-executor-python is the Sous executor plugin for Python functions.
package main

import (
	"github.com/sous-run/sous/internal/plugins/executor-python/pyrt"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/harness"
)

func main() {
	log := sdk.Logger("executor-python")
	sdk.Serve(sdk.Plugin{Executor: harness.NewPlugin(pyrt.Runtime(), log)}, log)
}
