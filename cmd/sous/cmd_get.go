package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/sous-run/sous/internal/host/api/wire"
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
	rec, err := cl.c.Invocation(cl.ctx, cl.args[0])
	if err != nil {
		return err
	}
	if cl.json() {
		return printJSON(rec)
	}
	if err := table(os.Stdout, recordRows(rec)); err != nil {
		return err
	}
	if len(rec.Output) > 0 {
		fmt.Println("output")
		return printJSON(rec.Output)
	}
	return nil
}

// recordRows are the fields of a record `sous get` shows, those not set left out.
func recordRows(rec *wire.Invocation) [][]string {
	rows := [][]string{{"id", rec.ID}, {"function", rec.Function}, {"version", strconv.Itoa(rec.Version)}}
	if rec.Env != "" {
		rows = append(rows, []string{"env", rec.Env})
	}
	rows = append(rows, []string{"status", string(rec.Status)}, []string{"attempts", strconv.Itoa(rec.Attempts)})
	if rec.DurationMS != 0 {
		rows = append(rows, []string{"duration_ms", strconv.FormatInt(rec.DurationMS, 10)})
	}
	rows = append(rows, []string{"created_at", rec.CreatedAt.Format(time.RFC3339Nano)})
	if rec.FinishedAt != nil {
		rows = append(rows, []string{"finished_at", rec.FinishedAt.Format(time.RFC3339Nano)})
	}
	if rec.Error != nil {
		rows = append(rows, []string{"error", rec.Error.Kind + ": " + rec.Error.Message})
	}
	return rows
}
