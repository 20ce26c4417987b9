// Command sous-plugin-messaging-redis is the Redis messaging driver: a reliable,
// at-least-once task queue served to the Sous host over go-plugin.
package main

import (
	"github.com/sous-run/sous/internal/plugins/messaging-redis/server"
	"github.com/sous-run/sous/sdk"
)

func main() {
	log := sdk.Logger("messaging-redis")
	sdk.Serve(sdk.Plugin{Messaging: server.New(log)}, log)
}
