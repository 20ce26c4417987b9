package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"
)

func init() {
	register(&command{name: "invocations", section: "client",
		usage: "[--function F] [--status S] [--limit N]  list invocations, newest first",
		run:   runInvocations})
}

func runInvocations(args []string) error {
	fs := flag.NewFlagSet("invocations", flag.ContinueOnError)
	function := fs.String("function", "", "only this function's invocations")
	status := fs.String("status", "", "only this status: pending, running, succeeded, failed or timeout")
	limit := fs.Int("limit", 20, "at most this many")
	cl, err := startCall(fs, args, 0, 0)
	if err != nil {
		return err
	}
	defer cl.cancel()
	list, err := cl.c.ListInvocations(cl.ctx, *function, *status, *limit)
	if err != nil {
		return fmt.Errorf("list invocations: %w", err)
	}
	if cl.json() {
		return printJSON(list)
	}
	rows := [][]string{{"ID", "FUNCTION", "VERSION", "ENV", "STATUS", "ATTEMPTS", "DURATION", "CREATED"}}
	for _, r := range list {
		status := string(r.Status)
		if r.Error != nil {
			status += " (" + r.Error.Kind + ")"
		}
		dur := "-"
		if r.DurationMS != 0 {
			dur = fmt.Sprintf("%d ms", r.DurationMS)
		}
		rows = append(rows, []string{r.ID, r.Function, strconv.Itoa(r.Version), dash(r.Env), status,
			strconv.Itoa(r.Attempts), dur, r.CreatedAt.Local().Format(time.DateTime)})
	}
	return table(os.Stdout, rows)
}
