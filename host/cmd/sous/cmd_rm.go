package main

import (
	"flag"
	"fmt"
)

func init() {
	register(&command{name: "rm", section: "client", usage: "<fn>  delete a function (it can no longer be invoked)", run: runRm})
}

func runRm(args []string) error {
	fs := flag.NewFlagSet("rm", flag.ContinueOnError)
	var cf clientFlags
	cf.add(fs)
	pos, err := parseArgs(fs, args, 1, 1)
	if err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	cx, cancel := ctx()
	defer cancel()
	if err := c.DeleteFunction(cx, pos[0]); err != nil {
		return fmt.Errorf("rm %s: %w", pos[0], err)
	}
	if cf.json() {
		return printJSON(map[string]any{"function": pos[0], "deleted": true})
	}
	fmt.Printf("deleted %s\n", pos[0])
	return nil
}
