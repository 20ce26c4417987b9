package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/sous-run/sous/internal/host/bench"
)

func init() {
	register(&command{name: "bench", section: "server", usage: "[--stacks embedded,redis] [--runtimes bun,python] [--requests N]  measure invocations end to end", run: runBench})
}

func runBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	stacks := fs.String("stacks", "embedded,redis", "driver sets to measure: embedded (codeq broker + embedded events), redis")
	runtimes := fs.String("runtimes", "bun,python", "runtimes to measure")
	modes := fs.String("modes", "json,sse", "response modes: json, sse")
	clients := fs.String("clients", "1,32", "concurrent clients per cell")
	requests := fs.Int("requests", 1000, "invocations per cell")
	steady := fs.Int("steady", 0, "invocations that bring new processes (each stack's, each BullMQ client) to a steady state before they are measured (0: 3000, -1: 50)")
	pluginDir := fs.String("plugins-dir", "./bin/plugins", "where the sous-plugin-* binaries are")
	redisURL := fs.String("redis-url", "", "Redis for the redis stack (default: start redis-server on a free port)")
	bun := fs.String("bun", "", "bun binary (default: what executor-bun finds)")
	python := fs.String("python", "", "python interpreter (default: what executor-python resolves)")
	peer := fs.Bool("peer", true, "also measure BullMQ 5 on the same Redis (installs it with npm into the user cache dir)")
	guarded := fs.Bool("peer-guarded", true, "with the peer, also measure BullMQ with Sous's guarantees: sandboxed processors on a Redis with appendfsync always")
	node := fs.String("node", "", "node binary for the BullMQ peer (default: node on PATH)")
	records := fs.Int("records", 0, "invocations of the durable-record measurement (0: 2000, -1: skip)")
	slow := fs.Int("slow-readers", 0, "SSE clients that never read (0: 32, -1: skip)")
	bigBytes := fs.Int("big-bytes", 0, "size of the large input and output (0: 1 MiB less 1 KiB, -1: skip)")
	sets := setFlags{}
	fs.Var(sets, "set", "config override for the hosts the bench starts, `key=value` (repeatable), to compare a setting")
	workerProcs := fs.String("worker-procs", "1,2,4", "worker process counts measured on Redis (none: skip)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (the in-process host) to this file")
	memProfile := fs.String("memprofile", "", "write what this process (the in-process host) allocated to this file, at the end")
	if _, err := parseArgs(fs, args, 0, 0); err != nil {
		return err
	}
	cs, err := ints(*clients)
	if err != nil {
		return fmt.Errorf("%w: --clients: %v", errUsage, err)
	}
	wp, err := []int{}, error(nil)
	if *workerProcs != "none" {
		if wp, err = ints(*workerProcs); err != nil {
			return fmt.Errorf("%w: --worker-procs: %v", errUsage, err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench: where is the sous binary: %w", err)
	}
	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(os.Stderr, "sous bench on %d cores (%s/%s)\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	rep, err := bench.Run(ctx, bench.Options{
		Stacks: split(*stacks), Runtimes: split(*runtimes), Modes: split(*modes), Clients: cs, Requests: *requests, Steady: *steady,
		PluginDir: *pluginDir, RedisURL: *redisURL, Bun: *bun, Python: *python, Progress: os.Stderr,
		Records: *records, SlowReaders: *slow, BigBytes: *bigBytes, NoPeer: !*peer, NoGuarded: !*guarded, Sets: sets, Node: *node, SousBin: self, WorkerProcs: wp,
	})
	if rep != nil && len(rep.Rows) > 0 {
		rep.Print(os.Stdout)
	}
	if *memProfile != "" {
		err = errors.Join(err, writeAllocsProfile(*memProfile))
	}
	return err
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func ints(s string) ([]int, error) {
	var out []int
	for _, p := range split(s) {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", p)
		}
		out = append(out, n)
	}
	return out, nil
}
