// Package bench measures the invocation path end to end on a live host, next to the
// floors measured in the same run: the executor-only warm round trip (host → plugin
// → harness → back) and, for Redis, a raw LPUSH/BRPOP round trip. `sous bench` and
// the Go benchmarks use it.
package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"time"
	"weak"

	"github.com/sous-run/sous/internal/host/server"
)

// Options choose what to measure.
type Options struct {
	Stacks   []string // embedded, redis
	Runtimes []string // bun, python
	Modes    []string // json, sse
	Clients  []int    // concurrent clients, e.g. 1 and 32
	Requests int      // invocations per (clients) cell, at least 1 per client
	Warmup   int      // invocations before measuring
	// Steady is how many invocations bring a new process to its steady state (its
	// heap grown, its JIT tiered up) before it is measured: each Sous stack's runtime
	// gets them at the largest client count before its floor and rows, each worker-
	// process row and each BullMQ measurement (its client is a new node process) as
	// its warm-up (default 3000; <0: Warmup only).
	Steady      int
	PluginDir   string            // where sous-plugin-* live
	Bun         string            // bun binary ("" = the executor finds it)
	Python      string            // python interpreter ("" = the executor resolves it)
	RedisURL    string            // redis stack: use this server ("" = start redis-server on a free port)
	Progress    io.Writer         // what the bench is doing, for people (nil = quiet)
	Timeout     time.Duration     // per invocation (default 30s)
	Records     int               // invocations whose records are written durably and not (default 2000; <0 skips)
	SlowReaders int               // SSE clients that never read, on the embedded stack (default 32; <0 skips)
	SlowChunks  int               // 64 KiB chunks each of their invocations yields (default 512)
	NoPeer      bool              // skip the BullMQ peer (it needs node and npm)
	NoGuarded   bool              // skip the BullMQ with Sous's guarantees (guarded.go)
	Node        string            // node binary for the peer ("" = node on PATH)
	SousBin     string            // the sous binary, for worker processes ("" skips the worker-process rows)
	WorkerProcs []int             // worker process counts on Redis (nil: 1, 2, 4; empty: none)
	BigBytes    int               // the large input (and so output) size (default 1 MiB less 1 KiB; <0 skips)
	BigRequests int               // invocations with the large input, one client (default 100)
	Sets        map[string]string // config overrides for every host the bench starts (A/B of a setting)
}

// Row is one measured cell.
type Row struct {
	Stack, Runtime, Mode string
	Clients              int
	N                    int
	P50, P99             time.Duration
	PerSec               float64
	Errors               int
	FirstError           string // the first failed invocation's error, printed in the progress lines
	// CPU and Switches are what the whole machine spent per invocation in the timed
	// phase (machine.go): busy CPU time and context switches, every process counted.
	CPU      time.Duration
	Switches float64
	// Beside is BullMQ measured just before this row with as many clients, on the same
	// Redis: the row's ratios are to it, so a machine whose speed drifts during the run
	// (a shared VM) moves both sides alike. Nil without the peer.
	Beside *Row
	// BesideGuarded is BullMQ with Sous's guarantees (sandboxed, AOF always) measured
	// just before this row, after Beside. Nil without it.
	BesideGuarded *Row
}

// Report is the outcome of a run.
type Report struct {
	Rows   []Row
	Floors map[string]time.Duration // "<stack>/bun harness", "<stack>/python harness", "redis LPUSH/BRPOP"
	// PipeBeside is, per harness floor, the raw pipe round trip measured between its runs.
	PipeBeside map[string]time.Duration
	Cold       map[string]time.Duration // "<stack>/<runtime>" first run of a new digest
	Records    *RecordCost              // durable invocation records next to records without fsync
	Raft       *Replication             // the store's write rates without raft, with raft, on three nodes
	Memory     *SlowReaders             // host RSS under slow readers (embedded stack)
	// TracingOff and TracingOn are the telemetry hooks' cost per invocation.
	TracingOff, TracingOn time.Duration
	Peer                  map[string]Row    // BullMQ: peerKey(clients), "big"
	PeerMem               int64             // BullMQ worker RSS at the largest client count
	PeerSkipped           string            // why the peer was not measured ("" = it was, or NoPeer)
	Guarded               map[string]Row    // BullMQ with Sous's guarantees: peerKey(clients)
	GuardedSkipped        string            // why it was not measured ("" = it was, or off)
	Plain                 map[string]Plain  // per runtime: plain start and the raw pipe floor
	Mem                   map[string]Memory // "<stack>/<runtime>" at the largest client count
	Big                   map[string]Row    // "<stack>/<runtime>" with a BigBytes input and output
	Workers               map[string]Row    // workersKey(runtime, k): redis, k worker processes
	Steady                int               // the warm-up of new processes (Options.steadyWarmup)
}

func (o *Options) defaults() {
	if len(o.Stacks) == 0 {
		o.Stacks = []string{"embedded", "redis"}
	}
	if len(o.Runtimes) == 0 {
		o.Runtimes = []string{"bun", "python"}
	}
	if len(o.Modes) == 0 {
		o.Modes = []string{"json", "sse"}
	}
	if len(o.Clients) == 0 {
		o.Clients = []int{1, 32}
	}
	if o.Requests <= 0 {
		o.Requests = 1000
	}
	if o.Warmup <= 0 {
		o.Warmup = 50
	}
	if o.Steady == 0 {
		o.Steady = 3000
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Records == 0 {
		o.Records = 2000
	}
	if o.SlowReaders == 0 {
		o.SlowReaders = 32
	}
	if o.SlowChunks <= 0 {
		o.SlowChunks = 512
	}
	if o.PluginDir == "" {
		o.PluginDir = "./bin/plugins"
	}
	if o.WorkerProcs == nil {
		o.WorkerProcs = []int{1, 2, 4}
	}
	if o.BigBytes == 0 {
		// 1 MiB less 1 KiB, as measured before redisstream's max_envelope_bytes
		// (then 1 MiB) held an echo of the largest input (limits.max_input_bytes).
		o.BigBytes = 1<<20 - 1<<10
	}
	if o.BigRequests <= 0 {
		o.BigRequests = 100
	}
}

// needsRedis says whether the run needs a Redis (the redis stack or the peer).
func (o *Options) needsRedis() bool {
	return !o.NoPeer || slices.Contains(o.Stacks, "redis")
}

func (o *Options) say(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", args...)
	}
}

// Run measures every stack × runtime × mode × clients cell.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.defaults()
	rep := &Report{Floors: map[string]time.Duration{}, PipeBeside: map[string]time.Duration{}, Cold: map[string]time.Duration{}, Peer: map[string]Row{}, Guarded: map[string]Row{},
		Plain: map[string]Plain{}, Mem: map[string]Memory{}, Big: map[string]Row{}, Workers: map[string]Row{}, Steady: max(o.Steady, 0)}
	if o.RedisURL == "" && o.needsRedis() {
		dir, err := os.MkdirTemp("", "sous-bench-redis-")
		if err != nil {
			return rep, err
		}
		defer os.RemoveAll(dir)
		o.say("· starting redis-server")
		url, stop, err := startRedis(dir)
		if err != nil {
			return rep, err
		}
		defer stop()
		o.RedisURL = url
	}
	var p *peer
	if !o.NoPeer {
		// A machine without node or npm still gets the Sous rows: the peer's absence
		// is printed with its reason instead of failing the run.
		var err error
		if p, err = runPeer(ctx, &o, rep); err != nil {
			rep.PeerSkipped = err.Error()
			o.say("· BullMQ peer skipped: %v", err)
		} else {
			defer p.stopWorkers()
		}
	}
	var g *peer
	if p != nil && !o.NoGuarded {
		gp, stop, err := startGuarded(ctx, &o, p, rep)
		if err != nil {
			rep.GuardedSkipped = err.Error()
			o.say("· %s skipped: %v", guardedLabel, err)
		} else {
			g = gp
			defer stop()
		}
	}
	for _, rt := range o.Runtimes {
		o.say("· plain %s: start and pipe round trip", rt)
		p, err := measurePlain(&o, rt, 10)
		if err != nil {
			return rep, fmt.Errorf("bench plain %s: %w", rt, err)
		}
		rep.Plain[rt] = p
	}
	if o.Records > 0 {
		rc, err := recordCost(&o)
		if err != nil {
			return rep, err
		}
		rep.Records = rc
		if rep.Raft, err = replicationCost(&o); err != nil {
			return rep, fmt.Errorf("bench replication: %w", err)
		}
	}
	for _, st := range o.Stacks {
		var host weak.Pointer[server.Host]
		if err := runStack(ctx, &o, st, rep, &host, p, g); err != nil {
			return rep, fmt.Errorf("bench %s stack: %w", st, err)
		}
		o.awaitCollected(st, host)
	}
	o.say("· telemetry hooks: tracing off, then on")
	var err error
	if rep.TracingOff, rep.TracingOn, err = telemetryCost(20000); err != nil {
		return rep, fmt.Errorf("bench telemetry: %w", err)
	}
	return rep, nil
}

// percentiles returns p50 and p99 of ds (sorted in place).
func percentiles(ds []time.Duration) (time.Duration, time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	at := func(p float64) time.Duration { return ds[min(len(ds)-1, int(float64(len(ds))*p))] }
	return at(0.50), at(0.99)
}

// steadyWarmup is the warm-up of a measurement whose processes are new: Steady, or
// Warmup when that is larger (or Steady is off).
func (o *Options) steadyWarmup() int { return max(o.Warmup, o.Steady) }
