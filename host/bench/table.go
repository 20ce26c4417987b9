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
	fmt.Fprintln(w, "| stack | runtime | mode | clients | p50 | p99 | inv/s | floor (harness p50) | p50 / floor | errors |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, row := range r.Rows {
		floor := r.Floors[floorKey(row.Stack, row.Runtime)]
		ratio := "-"
		if floor > 0 {
			ratio = fmt.Sprintf("%.1f×", float64(row.P50)/float64(floor))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %d | %s | %s | %.0f | %s | %s | %d |\n", row.Stack, row.Runtime, row.Mode, row.Clients,
			ms(row.P50), ms(row.P99), row.PerSec, ms(floor), ratio, row.Errors)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| floor | p50 |")
	fmt.Fprintln(w, "|---|---:|")
	for _, k := range sortedKeys(r.Floors) {
		fmt.Fprintf(w, "| %s | %s |\n", k, ms(r.Floors[k]))
	}
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
	if m := r.Memory; m != nil {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| slow readers (embedded) | chunks produced | host RSS before | host RSS peak | Go heap peak |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
		fmt.Fprintf(w, "| %d SSE clients that never read | %d MiB | %d MiB | %d MiB | %d MiB |\n", m.Readers, m.ProducedBytes>>20, m.BaselineRSS>>20, m.PeakRSS>>20, m.PeakHeap>>20)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| cold start (first run of a new digest) | latency |")
	fmt.Fprintln(w, "|---|---:|")
	for _, k := range sortedKeys(r.Cold) {
		fmt.Fprintf(w, "| %s | %s |\n", k, ms(r.Cold[k]))
	}
}

func ms(d time.Duration) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)), "0"), ".") + " ms"
}

func sortedKeys(m map[string]time.Duration) []string {
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
