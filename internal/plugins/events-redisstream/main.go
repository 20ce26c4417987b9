// Command sous-plugin-events-redisstream is the Redis Streams events driver: one stream
// per invocation, served to the Sous host over go-plugin.
package main

import (
	"github.com/sous-run/sous/internal/plugins/events-redisstream/server"
	"github.com/sous-run/sous/sdk"
)

func main() {
	log := sdk.Logger("events-redisstream")
	sdk.Serve(sdk.Plugin{Events: server.New(log)}, log)
}
