// Command sous-plugin-executor-bun is the Sous executor plugin for Bun functions.
package main

import (
	"github.com/sous-run/sous/internal/plugins/executor-bun/bunrt"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/harness"
)

func main() {
	log := sdk.Logger("executor-bun")
	sdk.Serve(sdk.Plugin{Executor: harness.NewPlugin(bunrt.Runtime(), log)}, log)
}
