package main

import (
	"flag"

	"github.com/sous-run/sous/host/client"
)

func init() {
	register(&command{name: "logs", section: "client", usage: "<invocation-id> [--follow] [--after ID]  print an invocation's events", run: runLogs})
}

func runLogs(args []string) error {
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	after := fs.String("after", "", "resume after this event id (Last-Event-ID)")
	follow := fs.Bool("follow", false, "keep following live events until the invocation ends")
	cl, err := startCall(fs, args, 1, 1)
	if err != nil {
		return err
	}
	defer cl.cancel()
	return streamEvents(cl, func(fn func(client.Event) error) error {
		return cl.c.Events(cl.ctx, cl.args[0], *after, *follow, fn)
	})
}
