package bench

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// times is a/b as "1.23×", "-" when b is unknown.
func times(a, b float64) string {
	if b <= 0 || a <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// sortedClients are the client counts of the peer's rows.
func sortedClients(peer map[string]Row) []int {
	var ns []int
	for k := range peer {
		if n, err := strconv.Atoi(strings.TrimPrefix(k, "c")); err == nil && strings.HasPrefix(k, "c") {
			ns = append(ns, n)
		}
	}
	sort.Ints(ns)
	return ns
}

// peerOf is the BullMQ row a Sous row is compared with: the one measured beside it,
// else the peer's first row with as many clients.
func (r *Report) peerOf(row Row) Row { return besideOr(row.Beside, r.Peer[peerKey(row.Clients)]) }

// besideOr is the BullMQ row measured beside a row, else first.
func besideOr(beside *Row, first Row) Row {
	if beside != nil {
		return *beside
	}
	return first
}

// besideCell is a BullMQ measurement beside a row as its table shows it: "p50, inv/s",
// "-" without one.
func besideCell(beside *Row) string {
	if beside == nil {
		return "-"
	}
	return fmt.Sprintf("%s, %.0f", ms(beside.P50), beside.PerSec)
}

// printBesideSpread shows how far BullMQ's own figures moved between the measurements
// taken beside the rows: the machine's drift during the run, which the ratios leave out.
func (r *Report) printBesideSpread(w io.Writer) {
	type span struct{ p50, rate [2]float64 }
	spans := map[int]*span{}
	for _, row := range r.Rows {
		b := row.Beside
		if b == nil {
			continue
		}
		s := spans[row.Clients]
		if s == nil {
			s = &span{[2]float64{math.Inf(1), 0}, [2]float64{math.Inf(1), 0}}
			spans[row.Clients] = s
		}
		p := float64(b.P50) / float64(time.Millisecond)
		s.p50 = [2]float64{min(s.p50[0], p), max(s.p50[1], p)}
		s.rate = [2]float64{min(s.rate[0], b.PerSec), max(s.rate[1], b.PerSec)}
	}
	if len(spans) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| BullMQ beside the rows | clients | p50, lowest–highest | inv/s, lowest–highest |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	for _, n := range slices.Sorted(maps.Keys(spans)) {
		s := spans[n]
		fmt.Fprintf(w, "| BullMQ 5 | %d | %.2f–%.2f ms | %.0f–%.0f |\n", n, s.p50[0], s.p50[1], s.rate[0], s.rate[1])
	}
}

// printPipe compares each executor-only floor with a raw pipe round trip to a warm
// process of the same runtime: the one measured between the floor's runs (the ratio
// the target is about) and the one measured alone, in a loop of its own.
func (r *Report) printPipe(w io.Writer) {
	if len(r.Plain) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| executor-only warm round trip | harness p50 | raw pipe p50, between the harness's runs | harness / pipe | raw pipe p50, alone in a loop | harness / that |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	for _, k := range sortedKeys(r.Floors) {
		st, rt, ok := strings.Cut(strings.TrimSuffix(k, " harness"), "/")
		if !ok || !strings.HasSuffix(k, " harness") {
			continue
		}
		f, beside, alone := float64(r.Floors[k]), r.PipeBeside[k], r.Plain[rt].Pipe
		fmt.Fprintf(w, "| %s/%s | %s | %s | %s | %s | %s |\n", st, rt, ms(r.Floors[k]), us(beside), times(f, float64(beside)), us(alone), times(f, float64(alone)))
	}
}

// printCold puts each cold start next to a plain start of the runtime.
func (r *Report) printCold(w io.Writer) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| cold start (first run of a new digest) | latency | plain `bun file.js` / `python3 file.py` | cold / plain |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	for _, k := range sortedKeys(r.Cold) {
		_, rt, _ := strings.Cut(k, "/")
		plain := r.Plain[rt].Start
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", k, ms(r.Cold[k]), ms(plain), times(float64(r.Cold[k]), float64(plain)))
	}
}

// printMemory is the resident memory at the largest client count.
func (r *Report) printMemory(w io.Writer) {
	if len(r.Mem) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| memory at the largest client count | host RSS | plugins RSS (all) | warm processes | RSS per warm process |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	if r.PeerMem > 0 {
		fmt.Fprintf(w, "| BullMQ worker (node) | - | - | 1 | %s |\n", mib(r.PeerMem))
	}
	for _, k := range sortedKeys(r.Mem) {
		m := r.Mem[k]
		fmt.Fprintf(w, "| %s | %s | %s | %d | %s |\n", k, mib(m.HostRSS), mib(m.PluginsRSS), m.Warm, mib(m.WarmRSS))
	}
}

// printBig is p50 with the large input and output, next to BullMQ's.
func (r *Report) printBig(w io.Writer) {
	if len(r.Big) == 0 {
		return
	}
	peer := r.Peer["big"]
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| 1 MiB input and output, 1 client | p50 | p99 | BullMQ beside: p50 | p50 / BullMQ | errors |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	if peer.N > 0 {
		fmt.Fprintf(w, "| BullMQ 5 | %s | %s | - | 1× | %d |\n", ms(peer.P50), ms(peer.P99), peer.Errors)
	}
	for _, k := range sortedKeys(r.Big) {
		row, beside := r.Big[k], "-"
		p := besideOr(row.Beside, peer)
		if row.Beside != nil {
			beside = ms(p.P50)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %d |\n", k, ms(row.P50), ms(row.P99), beside, times(float64(row.P50), float64(p.P50)), row.Errors)
	}
}

// printWorkers is the rate with k worker processes on Redis, next to BullMQ's.
func (r *Report) printWorkers(w io.Writer) {
	if len(r.Workers) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| redis, worker processes | runtime | clients | inv/s | p99 | BullMQ beside, as many processes: inv/s | inv/s / BullMQ | errors |")
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|---:|---:|")
	for _, k := range sortedKeys(r.Workers) {
		row := r.Workers[k]
		rt, n, _ := strings.Cut(k, "/")
		peer, rate := besideOr(row.Beside, Row{}), "-"
		if row.Beside != nil {
			rate = fmt.Sprintf("%.0f", peer.PerSec)
		}
		fmt.Fprintf(w, "| %s | %s | %d | %.0f | %s | %s | %s | %d |\n", n, rt, row.Clients, row.PerSec, ms(row.P99), rate, times(row.PerSec, peer.PerSec), row.Errors)
	}
}

func us(d interface{ Microseconds() int64 }) string {
	return strconv.FormatInt(d.Microseconds(), 10) + " µs"
}
