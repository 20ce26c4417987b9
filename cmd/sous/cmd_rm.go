package main

import (
	"flag"
	"fmt"
)

func init() {
	register(&command{name: "rm", section: "client", usage: "<fn>  delete a function (it can no longer be invoked)", run: runRm})
}

func runRm(args []string) error {
	cl, err := startCall(flag.NewFlagSet("rm", flag.ContinueOnError), args, 1, 1)
	if err != nil {
		return err
	}
	defer cl.cancel()
	if err := cl.c.DeleteFunction(cl.ctx, cl.args[0]); err != nil {
		return fmt.Errorf("rm %s: %w", cl.args[0], err)
	}
	if cl.json() {
		return printJSON(map[string]any{"function": cl.args[0], "deleted": true})
	}
	fmt.Printf("deleted %s\n", cl.args[0])
	return nil
}
