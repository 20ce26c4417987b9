package bench

import (
	"context"
	"fmt"
	"io"
	"os"
)

// guardedConcurrency is the sandboxed BullMQ worker's concurrency (one child process
// per concurrent job): its best rate at 32 clients on the 2-vCPU machine of the
// README, every write fsynced: 2,242–2,610 inv/s at 8, against 1,367 at 2,
// 1,679–1,977 at 4, 1,976–2,663 at 16 and 1,542 at 32 (the plain worker's).
const guardedConcurrency = 8

// guardedLabel names the BullMQ measured with Sous's guarantees.
const guardedLabel = "BullMQ 5, sandboxed, AOF always"

// startGuarded starts BullMQ with the guarantees Sous's rows keep: the function in a
// child process (BullMQ's sandboxed processors, its own isolation) and every write
// on disk before Redis answers it (a redis-server of its own with appendonly yes,
// appendfsync always, in a scratch dir). It measures its first rows into rep.Guarded
// and returns it with its worker running for the rows beside Sous's, and the func
// that stops it all.
func startGuarded(ctx context.Context, o *Options, plain *peer, rep *Report) (*peer, func(), error) {
	dir, err := os.MkdirTemp("", "sous-bench-redis-aof-")
	if err != nil {
		return nil, nil, err
	}
	url, stopRedis, err := startRedis(dir, "--appendonly", "yes", "--appendfsync", "always")
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	g := &peer{node: plain.node, dir: plain.dir, redisURL: url, kind: "sandboxed", concurrency: guardedConcurrency, label: guardedLabel}
	stop := func() {
		g.stopWorkers()
		stopRedis()
		os.RemoveAll(dir)
	}
	if err := g.startWorkers(ctx, "bench", 1); err != nil {
		stop()
		return nil, nil, err
	}
	if err := firstRows(ctx, o, g, rep.Guarded); err != nil {
		stop()
		return nil, nil, err
	}
	return g, stop, nil
}

// guardedOf is the guarded BullMQ row a Sous row is compared with: the one measured
// beside it, else the first with as many clients.
func (r *Report) guardedOf(row Row) Row {
	return besideOr(row.BesideGuarded, r.Guarded[peerKey(row.Clients)])
}

// printGuarded compares every row with BullMQ given Sous's isolation and durability,
// measured just before it: the comparison of like with like, next to the main table's
// BullMQ, which runs the function inside its worker and keeps nothing on disk.
func (r *Report) printGuarded(w io.Writer) {
	if len(r.Guarded) == 0 {
		if r.GuardedSkipped != "" {
			fmt.Fprintf(w, "\n%s not measured: %s\n", guardedLabel, r.GuardedSkipped)
		}
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "| against BullMQ with Sous's guarantees | clients | p50 | inv/s | CPU per invocation | %s beside: p50, inv/s | p50 / that | inv/s / that | CPU / that |\n", guardedLabel)
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, n := range sortedClients(r.Guarded) {
		g := r.Guarded[peerKey(n)]
		fmt.Fprintf(w, "| %s | %d | %s | %.0f | %s | - | 1× | 1× | 1× |\n", guardedLabel, n, ms(g.P50), g.PerSec, ms(g.CPU))
	}
	for _, row := range r.Rows {
		g := r.guardedOf(row)
		fmt.Fprintf(w, "| %s/%s/%s | %d | %s | %.0f | %s | %s | %s | %s | %s |\n", row.Stack, row.Runtime, row.Mode, row.Clients,
			ms(row.P50), row.PerSec, ms(row.CPU), besideCell(row.BesideGuarded), times(float64(row.P50), float64(g.P50)), times(row.PerSec, g.PerSec), times(float64(row.CPU), float64(g.CPU)))
	}
	fmt.Fprintf(w, "\n%s: BullMQ's worker runs the function in child processes (its sandboxed processors, %d at a time), and its Redis writes every command to its append-only file and fsyncs it before answering (appendonly yes, appendfsync always), as Sous's rows run functions in the sandbox and sync each record before the answer.\n", guardedLabel, guardedConcurrency)
}
