package harness

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// BenchmarkRunDirect measures the executor's Run without the gRPC hop (the plugin's
// Run called in process, the sandbox required) against a raw pipe echo through the
// same runtime, interleaved so both see the same machine load. What it leaves out of
// the plugintest benchmarks is the host → plugin gRPC stream.
func BenchmarkRunDirect(b *testing.B) {
	for _, rt := range []string{"bun", "python"} {
		for _, mode := range []string{SandboxRequired, SandboxNone} {
			b.Run(rt+"/"+mode, func(b *testing.B) { benchRunDirect(b, rt, mode) })
		}
	}
}

// directRuntime is the runtime description the plugins give, built from their runner
// files (the plugins' packages import this one).
func directRuntime(b testing.TB, name string) (rt *Runtime, interp, entry, src, echo string) {
	root := testenv.RepoRoot()
	switch name {
	case "bun":
		runner, err := os.ReadFile(filepath.Join(root, "internal/plugins/executor-bun/bunrt/runner.ts"))
		if err != nil {
			b.Fatal(err)
		}
		bun := testenv.Bun(b)
		return &Runtime{Name: "bun", ConfigKey: "bun", RunnerFile: "runner.ts", Runner: runner, Memory: MemoryRSS,
				Find: func(string) (string, error) { return bun, nil },
				Args: func(interp, runner, dir, entry string) []string { return []string{interp, runner, dir, entry} }},
			bun, "main.ts", "export default (input: unknown) => input;\n",
			"import { writeSync } from \"node:fs\";\nfor await (const line of console) writeSync(1, line + \"\\n\");\n"
	default:
		runner, err := os.ReadFile(filepath.Join(root, "internal/plugins/executor-python/pyrt/runner.py"))
		if err != nil {
			b.Fatal(err)
		}
		py := testenv.Python(b)
		return &Runtime{Name: "python", ConfigKey: "python", RunnerFile: "runner.py", Runner: runner, Memory: MemoryAddressSpace,
				Find: func(string) (string, error) { return py, nil },
				Args: func(interp, runner, dir, entry string) []string {
					return []string{interp, "-S", "-u", runner, dir, entry}
				},
				Mounts: func(string) ([]string, error) {
					out, err := exec.Command(py, "-c", "import sys; print(sys.base_prefix)").Output()
					return []string{string(out[:len(out)-1])}, err
				}},
			py, "main.py", "def handler(event, ctx):\n    return event\n",
			"import sys\nr, w = sys.stdin.buffer, sys.stdout.buffer\nwhile True:\n    l = r.readline()\n    if not l:\n        break\n    w.write(l)\n    w.flush()\n"
	}
}

func benchRunDirect(b *testing.B, name, mode string) {
	rt, interp, entry, src, echoSrc := directRuntime(b, name)
	p := NewPlugin(rt, hclog.NewNullLogger())
	cfg, _ := json.Marshal(map[string]any{"sandbox": mode, "cache_dir": b.TempDir()})
	if err := p.Configure(context.Background(), sdk.Config{JSON: cfg, HostDataDir: b.TempDir()}); err != nil {
		b.Fatal(err)
	}
	ex := p
	spec := sdk.FunctionSpec{Runtime: name, Entry: entry, Files: map[string][]byte{entry: []byte(src)}, Function: "fx", Digest: map[string]string{"bun": "b0b0b0b0", "python": "c0c0c0c0"}[name]}
	if _, err := ex.Prepare(context.Background(), spec); err != nil {
		b.Fatal(err)
	}
	req := sdk.RunRequest{InvocationID: "bench", Digest: spec.Digest, Input: []byte(`{"name":"bench"}`), Tenant: "t", Function: "fx"}
	run := func() {
		s := &captureStream{}
		if err := ex.Run(context.Background(), req, s.emit); err != nil {
			b.Fatal(err)
		}
		if len(s.last) == 0 || !json.Valid(s.last) {
			b.Fatalf("no terminal envelope: %q", s.last)
		}
		if e, _ := envelope.Unmarshal(s.last); e == nil || e.Type != envelope.TypeResult {
			b.Fatalf("not a result: %s", s.last)
		}
	}
	echo := startEchoProc(b, interp, echoSrc, filepath.Ext(entry))
	for range 50 {
		run()
		echo()
	}
	var direct, pipe []time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		run()
		direct = append(direct, time.Since(t0))
		t0 = time.Now()
		echo()
		pipe = append(pipe, time.Since(t0))
	}
	b.StopTimer()
	d50, p50 := median(direct), median(pipe)
	b.ReportMetric(float64(d50.Microseconds()), "run-p50-us")
	b.ReportMetric(float64(p50.Microseconds()), "pipe-p50-us")
	b.ReportMetric(float64(d50)/float64(p50), "run/pipe")
	p.cur.pool.Close()
}

// startEchoProc starts a warm `interp echo-script` and returns one line round trip.
func startEchoProc(b *testing.B, interp, src, ext string) func() {
	path := filepath.Join(b.TempDir(), "echo"+ext)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(interp, path)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { in.Close(); _ = cmd.Wait() })
	r := bufio.NewReader(out)
	line := []byte(`{"name":"bench"}` + "\n")
	return func() {
		if _, err := in.Write(line); err != nil {
			b.Fatal(err)
		}
		if _, err := r.ReadBytes('\n'); err != nil {
			b.Fatal(err)
		}
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// captureStream keeps the last envelope a Run emits.
type captureStream struct{ last []byte }

func (s *captureStream) emit(e []byte) error { s.last = e; return nil }
