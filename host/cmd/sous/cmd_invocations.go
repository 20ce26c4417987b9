package main

import (
	"flag"
	"fmt"
	"os"
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
		status := fmt.Sprint(r["status"])
		if e, ok := r["error"].(map[string]any); ok {
			status += " (" + fmt.Sprint(e["kind"]) + ")"
		}
		dur := "-"
		if d, ok := r["duration_ms"].(float64); ok {
			dur = fmt.Sprintf("%.0f ms", d)
		}
		created := fmt.Sprint(r["created_at"])
		if t, err := time.Parse(time.RFC3339Nano, created); err == nil {
			created = t.Local().Format(time.DateTime)
		}
		rows = append(rows, []string{fmt.Sprint(r["id"]), fmt.Sprint(r["function"]), fmt.Sprint(r["version"]),
			dash(str(r["env"])), status, fmt.Sprint(r["attempts"]), dur, created})
	}
	return table(os.Stdout, rows)
}

// str renders a JSON value for a table cell ("" for a missing one).
func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}
