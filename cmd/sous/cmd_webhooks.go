package main

import (
	"flag"
	"fmt"
)

func init() {
	register(&command{name: "webhooks", section: "client", run: runWebhooks,
		usage: "secret [--rotate]  print (or replace) the secret that signs completion webhooks"})
}

func runWebhooks(args []string) error {
	if len(args) == 0 || args[0] != "secret" {
		return fmt.Errorf("%w: sous webhooks secret [--rotate]", errUsage)
	}
	fs := flag.NewFlagSet("webhooks secret", flag.ContinueOnError)
	rotate := fs.Bool("rotate", false, "make a new secret; the old one also signs for 24 h")
	cl, err := startCall(fs, args[1:], 0, 0)
	if err != nil {
		return err
	}
	defer cl.cancel()
	sec, err := cl.c.WebhookSecret(cl.ctx, *rotate)
	if err != nil {
		return err
	}
	if cl.json() {
		return printJSON(sec)
	}
	fmt.Println(sec.Secret)
	return nil
}
