package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/testenv"
)

// options for a small run over the in-tree plugins.
func testOptions(t testing.TB) Options {
	dir := filepath.Dir(testenv.Plugin(t, "executor-bun"))
	for _, p := range []string{"executor-python", "messaging-redis", "events-redisstream", "messaging-codeq"} {
		testenv.Plugin(t, p)
	}
	// The BullMQ peer installs from npm: `make bench` measures it, tests do not.
	return Options{PluginDir: dir, Bun: testenv.Bun(t), Python: testenv.Python(t), NoPeer: true}
}

// TestRunMeasuresEveryCell runs a tiny bench on both stacks and checks that every cell
// was measured without errors, next to its floors, and that the table prints.
func TestRunMeasuresEveryCell(t *testing.T) {
	o := testOptions(t)
	o.Runtimes, o.Modes, o.Clients, o.Requests, o.Warmup, o.Steady = []string{"python"}, []string{"json", "sse"}, []int{1, 4}, 20, 5, 12
	o.Records, o.SlowReaders, o.SlowChunks = 100, 2, 8
	o.BigBytes, o.BigRequests = 64<<10, 3
	o.SousBin, o.WorkerProcs = testenv.Sous(t), []int{2}
	var progress strings.Builder
	o.Progress = &progress
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	// Each stack's host is collected before the next stack measures its memory.
	if strings.Contains(progress.String(), "still reachable") {
		t.Errorf("a closed stack's host stayed reachable:\n%s", progress.String())
	}
	if len(rep.Rows) != 2*2*2 {
		t.Fatalf("want 8 rows (2 stacks × 2 modes × 2 client counts), got %d", len(rep.Rows))
	}
	var cpu time.Duration
	for _, r := range rep.Rows {
		if r.N != 20 || r.Errors != 0 || r.P50 <= 0 || r.P99 < r.P50 || r.PerSec <= 0 || r.Switches <= 0 || r.CPU < 0 {
			t.Errorf("bad row %+v", r)
		}
		cpu += r.CPU
	}
	if cpu <= 0 { // a row can be shorter than one tick of /proc/stat's CPU times, not all
		t.Errorf("no row has a machine CPU cost: %+v", rep.Rows)
	}
	for _, k := range []string{"embedded/python harness", "redis/python harness", "redis LPUSH/BRPOP"} {
		if rep.Floors[k] <= 0 {
			t.Errorf("floor %q not measured: %v", k, rep.Floors)
		}
		if strings.HasSuffix(k, " harness") && rep.PipeBeside[k] <= 0 {
			t.Errorf("no pipe round trip beside floor %q: %v", k, rep.PipeBeside)
		}
	}
	if rep.Cold["embedded/python"] <= 0 || rep.Cold["redis/python"] <= 0 {
		t.Errorf("cold starts not measured: %v", rep.Cold)
	}
	if rc := rep.Records; rc == nil || rc.Durable <= 0 || rc.NoSync <= 0 {
		t.Errorf("record cost not measured: %+v", rep.Records)
	}
	if m := rep.Memory; m == nil || m.PeakRSS <= 0 || m.ProducedBytes != 2*8*64<<10 {
		t.Errorf("slow readers not measured: %+v", rep.Memory)
	}
	for _, k := range []string{"embedded/python", "redis/python"} {
		if b := rep.Big[k]; b.N != 3 || b.Errors != 0 {
			t.Errorf("large input %s not measured: %+v", k, b)
		}
		if m := rep.Mem[k]; m.HostRSS <= 0 || m.Warm < 1 || m.WarmRSS <= 0 {
			t.Errorf("memory %s not measured: %+v", k, m)
		}
	}
	if w := rep.Workers[workersKey("python", 2)]; w.N != 20 || w.Errors != 0 {
		t.Errorf("2 worker processes not measured: %+v", w)
	}
	if p := rep.Plain["python"]; p.Start <= 0 || p.Pipe <= 0 {
		t.Errorf("plain python not measured: %+v", p)
	}
	// Each stack's processes reach a steady state before its floor and rows.
	for _, st := range []string{"embedded", "redis"} {
		if !strings.Contains(progress.String(), st+"/python: 12 invocations from 4 clients to a steady state") {
			t.Errorf("no steady-state warm-up on the %s stack:\n%s", st, progress.String())
		}
	}
	var b strings.Builder
	rep.Print(&b)
	if !strings.Contains(b.String(), "served 12 invocations before its floor and rows") {
		t.Errorf("the table does not say how the processes were warmed:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "| redis | python | sse | 4 |") || !strings.Contains(b.String(), "| redis/python/sse | 4 |") ||
		!strings.Contains(b.String(), "between the harness's runs |") {
		t.Errorf("table lacks a row:\n%s", b.String())
	}
}

// BenchmarkInvokeBun is `go test -bench` access to the same measurement: warm
// invocations of a trivial Bun function through the embedded stack, one client.
func BenchmarkInvokeBun(b *testing.B) {
	o := testOptions(b)
	o.Stacks, o.Runtimes, o.Modes, o.Clients, o.Requests = []string{"embedded"}, []string{"bun"}, []string{"json"}, []int{1}, b.N
	o.Records, o.SlowReaders, o.BigBytes = -1, -1, -1
	o.Progress = os.Stderr
	rep, err := Run(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	r := rep.Rows[0]
	b.ReportMetric(float64(r.P50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(r.P99.Microseconds()), "p99-µs")
	b.ReportMetric(float64(rep.Floors["embedded/bun harness"].Microseconds()), "floor-µs")
	b.ReportMetric(float64(r.P50)/float64(rep.Floors["embedded/bun harness"]), "p50/floor")
}

// The replication table has the three setups, each with measured rates.
func TestReplicationCost(t *testing.T) {
	o := &Options{Records: 200}
	rep, err := replicationCost(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 3 {
		t.Fatalf("rows %+v", rep.Rows)
	}
	for _, r := range rep.Rows {
		if r.DeploysPerSec <= 0 || r.InvocationsSec <= 0 {
			t.Fatalf("%s: no rate measured: %+v", r.Setup, r)
		}
	}
	var b strings.Builder
	rep.print(&b)
	t.Log(b.String())
}
