package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/sous-run/sous/internal/host/status"
)

func init() {
	register(&command{name: "status", section: "client",
		usage: "one screen for a deployment: processes, plugins, queues, recent invocations (admin scope)", run: runStatus})
}

func runStatus(args []string) error {
	cl, err := startCall(flag.NewFlagSet("status", flag.ContinueOnError), args, 0, 0)
	if err != nil {
		return err
	}
	defer cl.cancel()
	var rep status.Report
	if err := cl.c.Do(cl.ctx, "GET", status.StatusPath, nil, &rep); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	if cl.json() {
		return printJSON(rep)
	}
	return printDeployment(os.Stdout, &rep)
}

// printDeployment renders a report as four tables.
func printDeployment(w io.Writer, rep *status.Report) error {
	procs := [][]string{{"PROCESS", "ROLE", "VERSION", "UPTIME", "RUNNING", "WARM", "LAST SEEN"}}
	plugins := [][]string{{"PROCESS", "PLUGIN", "VERSION", "HEALTH", "RESTARTS"}}
	for _, p := range rep.Processes {
		running := "-"
		if p.Concurrency > 0 {
			running = fmt.Sprintf("%d/%d", p.Running, p.Concurrency)
		}
		procs = append(procs, []string{p.ID, p.Role, p.Version, (time.Duration(p.UptimeSeconds) * time.Second).String(), running,
			warm(p.Warm), rep.GeneratedAt.Sub(p.LastSeen).Round(time.Second).String() + " ago"})
		for _, pl := range p.Plugins {
			health := "healthy"
			if !pl.Healthy {
				health = "unhealthy: " + pl.Reason
			}
			plugins = append(plugins, []string{p.ID, pl.Name, orDash(pl.Version), health, fmt.Sprint(pl.Restarts)})
		}
	}
	queue := [][]string{{"COMMAND", "PENDING", "DELAYED", "IN PROGRESS", "DEAD"}}
	for _, q := range rep.Queue {
		queue = append(queue, []string{q.Command, fmt.Sprint(q.Pending), fmt.Sprint(q.Delayed), fmt.Sprint(q.InProgress), fmt.Sprint(q.Dead)})
	}
	for _, t := range [][][]string{procs, plugins, queue} {
		if err := table(w, t); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	if rep.QueueError != "" {
		fmt.Fprintf(w, "queue: messaging did not answer Stats: %s\n\n", rep.QueueError)
	}
	fmt.Fprintf(w, "Invocations finished in the last %d minutes: %s\n", rep.Invocations.WindowMinutes, byStatus(rep.Invocations.ByStatus))
	return nil
}

// warm renders {"bun":{3,1}} as "bun 3 (1 idle)".
func warm(m map[string]*status.Warm) string {
	return orDash(joinSorted(m, func(rt string, w *status.Warm) string { return fmt.Sprintf("%s %d (%d idle)", rt, w.Processes, w.Idle) }))
}

// byStatus renders {"failed":1,"succeeded":2} as "failed 1, succeeded 2".
func byStatus(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	return joinSorted(m, func(s string, n int) string { return fmt.Sprintf("%s %d", s, n) })
}

// joinSorted formats each entry of m and joins them in order.
func joinSorted[V any](m map[string]V, format func(string, V) string) string {
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, format(k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
