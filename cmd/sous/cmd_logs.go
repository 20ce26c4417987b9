package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/sdk/envelope"
)

func init() {
	register(&command{name: "logs", section: "client", usage: "<invocation-id> [--follow] [--after ID]  print an invocation's events, one per line", run: runLogs})
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
	var failed *envelope.Envelope
	var last int64 // the previous event's time, for done
	err = cl.c.Events(cl.ctx, cl.args[0], *after, *follow, func(ev client.Event) error {
		if ev.Envelope.Type == envelope.TypeError {
			failed = ev.Envelope
		}
		if cl.json() {
			b, _ := json.Marshal(ev.Envelope)
			fmt.Println(string(b))
			return nil
		}
		last = printEvent(os.Stdout, ev, last)
		return nil
	})
	if err != nil {
		return err
	}
	if failed != nil {
		return fmt.Errorf("invocation failed (%s): %s", failed.Kind, failed.Message)
	}
	return nil
}

// printEvent writes one event on one line: its id, time, type and what it
// carries, and returns the event's time. The time is the event's own (the host
// stamps every event it stores with one), else a Redis stream id's milliseconds;
// done, a marker published with the terminal event, shows prev (that event's).
func printEvent(w io.Writer, ev client.Event, prev int64) int64 {
	e := ev.Envelope
	var what string
	switch e.Type {
	case envelope.TypeStatus:
		what = fmt.Sprintf("%s attempt %d on %s", e.Status, e.Attempt, e.Worker)
		if e.Message != "" {
			what = fmt.Sprintf("%s: %s", e.Status, e.Message)
		}
	case envelope.TypeLog:
		what = fmt.Sprintf("[%s] %s", e.Stream, strings.TrimRight(e.Text, "\n"))
	case envelope.TypeChunk:
		what = fmt.Sprintf("seq %d %s", e.Seq, e.Data)
	case envelope.TypeResult:
		what = fmt.Sprintf("%s (%d ms)", e.Output, e.DurationMS)
	case envelope.TypeError:
		what = fmt.Sprintf("%s: %s", e.Kind, e.Message)
	}
	ms := eventMS(ev)
	if ms == 0 && e.Type == envelope.TypeDone {
		ms = prev
	}
	at := clock(ms)
	fmt.Fprintf(w, "%-6s %-12s %-6s %s\n", dash(ev.ID), at, e.Type, what)
	if e.Type == envelope.TypeError && e.Stack != "" {
		for _, l := range strings.Split(strings.TrimRight(e.Stack, "\n"), "\n") {
			fmt.Fprintf(w, "%-6s %-12s %-6s   %s\n", "", at, "", l)
		}
	}
	return ms
}

var streamIDRe = regexp.MustCompile(`^(\d{13})-\d+$`)

// eventMS is the event's time in unix milliseconds, 0 when it carries none.
func eventMS(ev client.Event) int64 {
	ms := ev.Envelope.TS
	if m := streamIDRe.FindStringSubmatch(ev.ID); ms == 0 && m != nil {
		ms, _ = strconv.ParseInt(m[1], 10, 64)
	}
	return ms
}

// clock formats a time as the local wall clock, "-" for none.
func clock(ms int64) string {
	if ms == 0 {
		return "-"
	}
	return time.UnixMilli(ms).Local().Format("15:04:05.000")
}
