package plugintest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// BenchRuntime tells the executor benchmarks how to reach the same runtime directly,
// for the floors every number is reported against.
type BenchRuntime struct {
	Runtime string   // bun | python
	Entry   string   // entry file name (main.ts, main.py)
	Trivial string   // a function returning its input
	Interp  []string // interpreter command (e.g. {bun} or {python3, -u})
	// EchoScript reads a line from stdin and writes it back to stdout, forever.
	EchoScript string
	// PlainScript does nothing (the cold start floor is starting it to its exit).
	PlainScript string
	Ext         string // script extension (ts, py)
}

const benchInput = `{"name":"bench"}`

// BenchWarm measures warm invocations of a trivial function through the plugin (host ->
// plugin gRPC -> harness -> back) against a raw pipe round trip to the same runtime,
// reporting p50/p99 of both and their ratios.
func BenchWarm(b *testing.B, tg Target, rt BenchRuntime) {
	p := Launch(b, tg, sdk.KindExecutor)
	c := p.Executor
	spec := NewFunc(rt.Runtime, rt.Entry, map[string]string{rt.Entry: rt.Trivial}, nil, sdk.Limits{})
	Prepare(b, c, spec)
	for range 50 {
		benchRun(b, c, spec.Digest)
	}
	raw := startEcho(b, rt)
	for range 50 {
		if err := raw.roundTrip(); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	plug := make([]time.Duration, 0, b.N)
	floor := make([]time.Duration, 0, b.N)
	rpc := make([]time.Duration, 0, b.N)
	for range b.N {
		t0 := time.Now()
		benchRun(b, c, spec.Digest)
		plug = append(plug, time.Since(t0))
		t0 = time.Now()
		if err := raw.roundTrip(); err != nil {
			b.Fatal(err)
		}
		floor = append(floor, time.Since(t0))
		t0 = time.Now()
		if _, err := p.Health(context.Background()); err != nil {
			b.Fatalf("health: %v", err)
		}
		rpc = append(rpc, time.Since(t0))
	}
	b.StopTimer()
	p50, p99 := percentile(plug, 50), percentile(plug, 99)
	r50, r99 := percentile(floor, 50), percentile(floor, 99)
	b.ReportMetric(us(p50), "p50-us")
	b.ReportMetric(us(p99), "p99-us")
	b.ReportMetric(us(r50), "raw-p50-us")
	b.ReportMetric(us(r99), "raw-p99-us")
	// The bare gRPC round trip to the plugin, for reading the ratio: it is part of
	// every invocation and outside the harness.
	b.ReportMetric(us(percentile(rpc, 50)), "grpc-p50-us")
	b.ReportMetric(float64(p50)/float64(r50), "p50-ratio")
	b.ReportMetric(float64(p99)/float64(r99), "p99-ratio")
}

// BenchCold measures the first run of a new digest (Prepare + Run, a new harness
// process) against starting the runtime on an empty script until it exits.
func BenchCold(b *testing.B, tg Target, rt BenchRuntime) {
	p := Launch(b, tg, sdk.KindExecutor)
	c := p.Executor
	dir := b.TempDir()
	plain := filepath.Join(dir, "plain."+rt.Ext)
	if err := os.WriteFile(plain, []byte(rt.PlainScript), 0o644); err != nil {
		b.Fatal(err)
	}
	start := func() {
		cmd := exec.Command(rt.Interp[0], append(rt.Interp[1:], plain)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("plain start: %v %s", err, out)
		}
	}
	start()
	b.ResetTimer()
	var cold, floor []time.Duration
	for i := range b.N {
		src := fmt.Sprintf("%s\n// %d %d\n", rt.Trivial, i, time.Now().UnixNano())
		if rt.Ext == "py" {
			src = fmt.Sprintf("%s\n# %d %d\n", rt.Trivial, i, time.Now().UnixNano())
		}
		spec := NewFunc(rt.Runtime, rt.Entry, map[string]string{rt.Entry: src}, nil, sdk.Limits{})
		t0 := time.Now()
		Prepare(b, c, spec)
		benchRun(b, c, spec.Digest)
		cold = append(cold, time.Since(t0))
		t0 = time.Now()
		start()
		floor = append(floor, time.Since(t0))
	}
	b.StopTimer()
	c50, f50 := percentile(cold, 50), percentile(floor, 50)
	b.ReportMetric(ms(c50), "cold-p50-ms")
	b.ReportMetric(ms(f50), "plain-start-p50-ms")
	b.ReportMetric(float64(c50)/float64(f50), "cold-ratio")
}

// BenchThroughput runs 8 concurrent invocation loops through the plugin (8 warm
// processes) and 8 concurrent raw pipe echo loops, reporting both rates and the ratio.
func BenchThroughput(b *testing.B, tg Target, rt BenchRuntime) {
	const workers = 8
	p := Launch(b, tg, sdk.KindExecutor)
	c := p.Executor
	spec := NewFunc(rt.Runtime, rt.Entry, map[string]string{rt.Entry: rt.Trivial}, nil, sdk.Limits{})
	Prepare(b, c, spec)
	parallel(b, workers, 10, func(int) error { return tryRun(c, spec.Digest) })
	raws := make([]*echoProc, workers)
	for i := range raws {
		raws[i] = startEcho(b, rt)
	}
	b.ResetTimer()
	n := max(b.N/workers, 1)
	t0 := time.Now()
	parallel(b, workers, n, func(int) error { return tryRun(c, spec.Digest) })
	plug := time.Since(t0)
	t0 = time.Now()
	parallel(b, workers, n, func(w int) error { return raws[w].roundTrip() })
	floor := time.Since(t0)
	b.StopTimer()
	total := float64(n * workers)
	b.ReportMetric(total/plug.Seconds(), "inv/s")
	b.ReportMetric(total/floor.Seconds(), "raw-rt/s")
	b.ReportMetric(floor.Seconds()/plug.Seconds(), "throughput-ratio")
}

// parallel runs fn n times on each of workers goroutines and fails b (from the
// benchmark goroutine) with the first error.
func parallel(b *testing.B, workers, n int, fn func(w int) error) {
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				if errs[w] = fn(w); errs[w] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
}

func benchRun(b *testing.B, c sdk.Executor, digest string) {
	if err := tryRun(c, digest); err != nil {
		b.Fatal(err)
	}
}

func tryRun(c sdk.Executor, digest string) error {
	envs, err := execStream(context.Background(), c, digest, benchInput, RunOpts{InvocationID: "bench"}, nil)
	if err != nil || len(envs) == 0 || envs[len(envs)-1].Type != envelope.TypeResult {
		return fmt.Errorf("bench run: %v %s", err, dump(envs))
	}
	return nil
}

// echoProc is the floor: a runtime process echoing lines over plain pipes.
type echoProc struct {
	in  *os.File
	out *bufio.Reader
}

func startEcho(b *testing.B, rt BenchRuntime) *echoProc {
	path := filepath.Join(b.TempDir(), "echo."+rt.Ext)
	if err := os.WriteFile(path, []byte(rt.EchoScript), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(rt.Interp[0], append(rt.Interp[1:], path)...)
	inR, inW, _ := os.Pipe()
	outR, outW, _ := os.Pipe()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("start echo floor: %v", err)
	}
	inR.Close()
	outW.Close()
	b.Cleanup(func() { inW.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return &echoProc{in: inW, out: bufio.NewReader(outR)}
}

func (e *echoProc) roundTrip() error {
	if _, err := e.in.Write([]byte(benchInput + "\n")); err != nil {
		return fmt.Errorf("echo floor write: %w", err)
	}
	if _, err := e.out.ReadSlice('\n'); err != nil {
		return fmt.Errorf("echo floor read: %w", err)
	}
	return nil
}

func percentile(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
