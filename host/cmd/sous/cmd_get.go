package main

import (
	"flag"
	"fmt"
	"os"
)

func init() {
	register(&command{name: "get", section: "client", usage: "<invocation-id>  show an invocation's record", run: runGet})
}

func runGet(args []string) error {
	cl, err := startCall(flag.NewFlagSet("get", flag.ContinueOnError), args, 1, 1)
	if err != nil {
		return err
	}
	defer cl.cancel()
	rec, err := cl.c.GetInvocation(cl.ctx, cl.args[0])
	if err != nil {
		return err
	}
	if cl.json() {
		return printJSON(rec)
	}
	rows := [][]string{}
	for _, k := range []string{"id", "function", "version", "env", "status", "attempts", "duration_ms", "created_at", "finished_at"} {
		if v, ok := rec[k]; ok {
			rows = append(rows, []string{k, fmt.Sprint(v)})
		}
	}
	if e, ok := rec["error"].(map[string]any); ok {
		rows = append(rows, []string{"error", fmt.Sprintf("%v: %v", e["kind"], e["message"])})
	}
	if err := table(os.Stdout, rows); err != nil {
		return err
	}
	if out, ok := rec["output"]; ok {
		fmt.Println("output")
		return printJSON(out)
	}
	return nil
}
