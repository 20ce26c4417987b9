package main

import (
	"flag"

	"github.com/sous-run/sous/host/client"
)

func init() {
	register(&command{name: "logs", section: "client", usage: "<invocation-id> [--after ID]: print an invocation's events (follows until done)", run: runLogs})
}

func runLogs(args []string) error {
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	after := fs.String("after", "", "resume after this event id (Last-Event-ID)")
	fs.Bool("follow", true, "follow live events until the invocation ends (always on)")
	cl, err := startCall(fs, args, 1, 1)
	if err != nil {
		return err
	}
	defer cl.cancel()
	return streamEvents(cl, func(fn func(client.Event) error) error {
		return cl.c.Events(cl.ctx, cl.args[0], *after, fn)
	})
}
