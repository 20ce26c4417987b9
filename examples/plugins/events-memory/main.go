// Command events-memory is an example third-party Sous events plugin that keeps every
// invocation's events in memory. It is built only against github.com/sous-run/sous/sdk:
// proof that a driver can be shipped as a binary without touching the host.
//
//	plugins:
//	  events: {driver: memory, memory: {path: ./bin/example-plugins/events-memory, max_events: 10000}}
package main

import (
	"github.com/sous-run/sous/examples/plugins/events-memory/memlog"
	"github.com/sous-run/sous/sdk"
)

func main() {
	log := sdk.Logger("events-memory")
	sdk.Serve(sdk.Plugin{Events: memlog.New(log)}, log)
}
