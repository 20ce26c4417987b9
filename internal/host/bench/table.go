package bench

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Print writes the report as Markdown tables: one row per stack × runtime × mode ×
// clients, with the floor of that runtime and the ratio of p50 to it.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintln(w, "| stack | runtime | mode | clients | p50 | p99 | inv/s | floor (harness p50) | p50 / floor | BullMQ beside: p50, inv/s | p50 / BullMQ | inv/s / BullMQ | errors |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, n := range sortedClients(r.Peer) {
		row := r.Peer[peerKey(n)]
		fmt.Fprintf(w, "| redis | BullMQ 5 (node, no isolation) | job + waitUntilFinished | %d | %s | %s | %.0f | - | - | - | 1× | 1× | %d |\n",
			n, ms(row.P50), ms(row.P99), row.PerSec, row.Errors)
	}
	for _, row := range r.Rows {
		floor := r.Floors[floorKey(row.Stack, row.Runtime)]
		ratio := "-"
		if floor > 0 {
			ratio = fmt.Sprintf("%.1f×", float64(row.P50)/float64(floor))
		}
		peer := r.peerOf(row)
		fmt.Fprintf(w, "| %s | %s | %s | %d | %s | %s | %.0f | %s | %s | %s | %s | %s | %d |\n", row.Stack, row.Runtime, row.Mode, row.Clients,
			ms(row.P50), ms(row.P99), row.PerSec, ms(floor), ratio, besideCell(row.Beside), times(float64(row.P50), float64(peer.P50)), times(row.PerSec, peer.PerSec), row.Errors)
	}
	if r.Steady > 0 {
		fmt.Fprintf(w, "\nEvery process was measured in its steady state: each stack's host, plugins and function processes served %d invocations before its floor and rows, each BullMQ client (a new node process per measurement) %d before its timed phase (%d before a 1 MiB row, on both sides).\n", r.Steady, r.Steady, bigWarmup)
	}
	r.printBesideSpread(w)
	if r.PeerSkipped != "" {
		fmt.Fprintf(w, "\nBullMQ peer not measured: %s\n", r.PeerSkipped)
	}
	r.printGuarded(w)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| floor | p50 |")
	fmt.Fprintln(w, "|---|---:|")
	for _, k := range sortedKeys(r.Floors) {
		fmt.Fprintf(w, "| %s | %s |\n", k, ms(r.Floors[k]))
	}
	r.printMachine(w)
	r.printPipe(w)
	r.printMemory(w)
	r.printBig(w)
	r.printWorkers(w)
	if rc := r.Records; rc != nil {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "| invocation records (%d invocations, %d writers; create + running + final) | p50 per invocation | invocations/s |\n", rc.Invocations, rc.Writers)
		fmt.Fprintln(w, "|---|---:|---:|")
		fmt.Fprintf(w, "| durable (fsync before the answer, grouped) | %s | %.0f |\n", ms(rc.Durable), rc.DurablePerSec)
		fmt.Fprintf(w, "| without fsync (before; a crash forgot answered ids) | %s | %.0f |\n", ms(rc.NoSync), rc.NoSyncPerSec)
		if rc.NoSync > 0 && rc.DurablePerSec > 0 {
			fmt.Fprintf(w, "| durable / without | %.1f× | %.2f× |\n", float64(rc.Durable)/float64(rc.NoSync), rc.DurablePerSec/rc.NoSyncPerSec)
		}
	}
	r.Raft.print(w)
	if m := r.Memory; m != nil {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| slow readers (embedded) | chunks produced | host RSS before | host RSS peak | Go heap peak |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
		fmt.Fprintf(w, "| %d SSE clients that never read | %d MiB | %d MiB | %d MiB | %d MiB |\n", m.Readers, m.ProducedBytes>>20, m.BaselineRSS>>20, m.PeakRSS>>20, m.PeakHeap>>20)
	}
	fmt.Fprintln(w)
	r.printCold(w)
	r.printTelemetry(w)
}

// printTelemetry shows the telemetry hooks' cost per invocation next to the fastest
// measured p50, with tracing off (the default) and on.
func (r *Report) printTelemetry(w io.Writer) {
	if r.TracingOff == 0 {
		return
	}
	var best time.Duration
	for _, row := range r.Rows {
		if best == 0 || (row.P50 > 0 && row.P50 < best) {
			best = row.P50
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| telemetry hooks per invocation | cost | share of the fastest p50 |")
	fmt.Fprintln(w, "|---|---:|---:|")
	for _, c := range []struct {
		name string
		d    time.Duration
	}{{"tracing off (default; metrics on)", r.TracingOff}, {"tracing on (telemetry.otlp.endpoint set)", r.TracingOn}} {
		share := "-"
		if best > 0 {
			share = fmt.Sprintf("%.2f%%", 100*float64(c.d)/float64(best))
		}
		fmt.Fprintf(w, "| %s | %.1f µs | %s |\n", c.name, float64(c.d)/float64(time.Microsecond), share)
	}
}

func ms(d time.Duration) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)), "0"), ".") + " ms"
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// floorKey names the executor-only floor of a runtime measured on a stack's host, so
// each row is compared with the floor of its own host.
func floorKey(stack, runtime string) string { return stack + "/" + runtime + " harness" }
