// Command sous-plugin-messaging-codeq is the Sous messaging driver for codeQ (and its
// embedded codeQ-compatible broker). Launched by the host through go-plugin.
package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/driver"
	"github.com/sous-run/sous/sdk"
)

func main() {
	log := sdk.Logger("messaging-codeq")
	d := driver.New(log)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	go func() {
		<-sig
		d.Close() // abandon held leases, stop the embedded broker cleanly
		os.Exit(0)
	}()
	sdk.Serve(sdk.Plugin{Messaging: d}, log)
	d.Close()
}
