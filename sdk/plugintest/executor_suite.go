package plugintest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// secret is planted in the plugin's environment; no function may see it.
const secret = "SOUS_SECRET=planted-by-plugintest"

// Executor runs the executor conformance suite against tg with the runtime's fixtures.
// tg.Config must name the runtime's interpreter if it is not found by default.
func Executor(t *testing.T, tg Target, fx ExecutorFixtures) {
	tg.Env = append(append([]string{}, tg.Env...), secret)
	c := Launch(t, tg, sdk.KindExecutor).Executor
	x := &execSuite{c: c, fx: fx}

	t.Run("UnknownDigestNotFound", func(t *testing.T) {
		_, err := execStream(context.Background(), c, "00000000deadbeef", "null", RunOpts{}, nil)
		if !errors.Is(err, sdk.ErrNotFound) {
			t.Fatalf("Run on an unknown digest: want NotFound, got %v", err)
		}
	})
	t.Run("PrepareIdempotent", func(t *testing.T) {
		spec := x.spec(fx.Echo, nil, sdk.Limits{})
		Prepare(t, c, spec)
		if !Prepare(t, c, spec) {
			t.Fatalf("second Prepare of the same digest: want cached=true")
		}
	})
	t.Run("Echo", x.echo)
	t.Run("Async", func(t *testing.T) {
		wantResult(t, x.run(t, fx.Async, `{"n":1}`), `{"async":{"n":1}}`)
	})
	t.Run("Generator", func(t *testing.T) {
		envs := x.run(t, fx.Generator, `null`)
		wantChunks(t, envs, `1`, `2`, `3`)
		wantResult(t, envs, `"done"`)
	})
	t.Run("AsyncGenerator", func(t *testing.T) {
		envs := x.run(t, fx.AsyncGenerator, `null`)
		wantChunks(t, envs, `"a"`, `"b"`)
		wantResult(t, envs, fx.AsyncGeneratorResult)
	})
	t.Run("SubdirEntry", func(t *testing.T) {
		spec := NewFunc(fx.Runtime, fx.SubdirEntry, fx.SubdirFiles, nil, sdk.Limits{})
		Prepare(t, c, spec)
		wantResult(t, Exec(t, c, spec.Digest, `null`, RunOpts{}), `{"helper":"ok"}`)
	})
	t.Run("SyntaxError", func(t *testing.T) {
		wantError(t, x.run(t, fx.SyntaxError, `null`), envelope.KindUser, fmt.Sprintf("%s:%d", fx.Entry, fx.SyntaxErrorLine))
	})
	t.Run("Throws", func(t *testing.T) {
		e := wantError(t, x.run(t, fx.Throws, `null`), envelope.KindUser, "boom-42")
		if !strings.Contains(e.Stack, fx.Entry) {
			t.Fatalf("thrown error: want a stack naming %s, got %q", fx.Entry, e.Stack)
		}
	})
	t.Run("NonSerializable", func(t *testing.T) {
		wantError(t, x.run(t, fx.NonSerializable, `null`), envelope.KindUser, "JSON")
	})
	t.Run("ExitMidRun", func(t *testing.T) {
		x.exitThenAlive(t, fx.ExitMidRun, `{"exit":true}`, fx.ExitKind, "before exit")
	})
	if fx.HardExit != "" {
		t.Run("HardExit", func(t *testing.T) {
			x.exitThenAlive(t, fx.HardExit, `{"exit":true}`, envelope.KindCrash, "before exit")
		})
	}
	t.Run("KilledBySignal", func(t *testing.T) {
		e := x.exitThenAlive(t, fx.SelfKill, `{"kill":true}`, envelope.KindCrash, "")
		if !strings.Contains(e.Message, "signal") {
			t.Fatalf("crash message %q does not name the signal", e.Message)
		}
	})
	t.Run("TimeoutKillsProcessGroup", x.timeout)
	t.Run("CancelKillsRun", x.cancel)
	t.Run("MemoryLimit", func(t *testing.T) {
		spec := x.spec(fx.MemoryHog, nil, sdk.Limits{MemoryMB: 200, Timeout: 30 * time.Second})
		Prepare(t, c, spec)
		wantError(t, Exec(t, c, spec.Digest, `null`, RunOpts{}), envelope.KindLimit, "memory")
	})
	t.Run("ResultLimit", func(t *testing.T) {
		spec := x.spec(fx.BigResult, nil, sdk.Limits{MaxResultBytes: 1000})
		Prepare(t, c, spec)
		wantResult(t, Exec(t, c, spec.Digest, `{"n":100}`, RunOpts{}), `"`+strings.Repeat("x", 100)+`"`)
		wantError(t, Exec(t, c, spec.Digest, `{"n":5000}`, RunOpts{}), envelope.KindLimit, "max_result_bytes")
		wantResult(t, Exec(t, c, spec.Digest, `{"n":10}`, RunOpts{}), `"xxxxxxxxxx"`)
	})
	t.Run("LogFloodTruncated", x.logFlood)
	t.Run("ScrubbedEnv", x.env)
	t.Run("Ctx", func(t *testing.T) {
		spec := x.spec(fx.CtxEcho, nil, sdk.Limits{})
		Prepare(t, c, spec)
		dl := time.Now().Add(20 * time.Second).Truncate(time.Millisecond)
		envs := Exec(t, c, spec.Digest, `null`, RunOpts{InvocationID: "inv-ctx-1", Env: "dev", Version: "7", Attempt: 2, Deadline: dl})
		wantResult(t, envs, fmt.Sprintf(`{"invocation_id":"inv-ctx-1","function":"fx","version":"7","env":"dev","deadline":%d,"attempt":2}`, dl.UnixMilli()))
	})
	t.Run("Concurrent", func(t *testing.T) {
		spec := x.spec(fx.Echo, nil, sdk.Limits{})
		Prepare(t, c, spec)
		inputs := []string{`{"name":"c0"}`, `{"name":"c1"}`, `{"name":"c2"}`, `{"name":"c3"}`}
		for i, envs := range concurrently(t, c, spec.Digest, inputs) {
			wantResult(t, envs, inputs[i])
		}
	})
	t.Run("Pool", func(t *testing.T) { x.pool(t, tg) })
}

type execSuite struct {
	c  sdk.Executor
	fx ExecutorFixtures
}

func (x *execSuite) spec(src string, vars map[string]string, lim sdk.Limits) sdk.FunctionSpec {
	return NewFunc(x.fx.Runtime, x.fx.Entry, map[string]string{x.fx.Entry: src}, vars, lim)
}

// run prepares a single-file function with default limits and runs it once.
func (x *execSuite) run(t *testing.T, src, input string) []*envelope.Envelope {
	t.Helper()
	spec := x.spec(src, nil, sdk.Limits{})
	Prepare(t, x.c, spec)
	return Exec(t, x.c, spec.Digest, input, RunOpts{})
}

func wantChunks(t *testing.T, envs []*envelope.Envelope, data ...string) {
	t.Helper()
	var got []*envelope.Envelope
	for _, e := range envs {
		if e.Type == envelope.TypeChunk {
			got = append(got, e)
		}
	}
	if len(got) != len(data) {
		t.Fatalf("want %d chunks, got:\n%s", len(data), dump(envs))
	}
	for i, e := range got {
		if e.Seq != int64(i+1) || !jsonEqual(e.Data, data[i]) {
			t.Fatalf("chunk %d: seq %d data %s, want seq %d data %s", i, e.Seq, e.Data, i+1, data[i])
		}
	}
}

func (x *execSuite) echo(t *testing.T) {
	spec := x.spec(x.fx.Echo, nil, sdk.Limits{})
	Prepare(t, x.c, spec)
	for i := range 3 { // warm reuse: the same process answers again
		in := fmt.Sprintf(`{"name":"n%d","nested":[1,{"a":null}]}`, i)
		envs := Exec(t, x.c, spec.Digest, in, RunOpts{})
		wantResult(t, envs, in)
		var texts []string
		for _, l := range logs(envs) {
			texts = append(texts, l.Stream+":"+l.Text)
		}
		joined := strings.Join(texts, "|")
		if !strings.Contains(joined, fmt.Sprintf("stdout:hello n%d", i)) || !strings.Contains(joined, fmt.Sprintf("stdout:raw n%d", i)) {
			t.Fatalf("run %d: want console and raw stdout logs before the result, got %q", i, joined)
		}
	}
}

// exitThenAlive runs fixture src with input (which ends the process) and checks the
// error kind (and that the log line printed before the exit was not lost), then checks
// the next run of the same digest gets a working process.
func (x *execSuite) exitThenAlive(t *testing.T, src, input, kind, printed string) *envelope.Envelope {
	spec := x.spec(src, nil, sdk.Limits{})
	Prepare(t, x.c, spec)
	envs := Exec(t, x.c, spec.Digest, input, RunOpts{})
	e := wantError(t, envs, kind)
	if printed != "" && !slices.ContainsFunc(logs(envs), func(l *envelope.Envelope) bool { return l.Text == printed }) {
		t.Fatalf("the log %q printed before the exit was lost:\n%s", printed, dump(envs))
	}
	wantResult(t, Exec(t, x.c, spec.Digest, `{}`, RunOpts{}), `"alive"`)
	return e
}

func (x *execSuite) timeout(t *testing.T) {
	spec := x.spec(x.fx.Hang, nil, sdk.Limits{Timeout: 3 * time.Second}) // room for a cold start in a jail on a loaded machine
	Prepare(t, x.c, spec)
	secs := sleepMarker()
	envs := Exec(t, x.c, spec.Digest, `{"sleep":"`+secs+`"}`, RunOpts{})
	wantError(t, envs, envelope.KindTimeout)
	for _, e := range envs {
		if _, ok := childPid(t, e); ok {
			WaitNoMarkedProcs(t, secs, "the function's child process after a timeout")
			return
		}
	}
	t.Fatalf("hang fixture did not log its child pid:\n%s", dump(envs))
}

func (x *execSuite) cancel(t *testing.T) {
	spec := x.spec(x.fx.Hang, nil, sdk.Limits{Timeout: time.Minute})
	Prepare(t, x.c, spec)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pid := 0
	secs := sleepMarker()
	_, err := execStream(ctx, x.c, spec.Digest, `{"sleep":"`+secs+`"}`, RunOpts{}, func(e *envelope.Envelope) {
		if p, ok := childPid(t, e); ok {
			pid = p
			cancel()
		}
	})
	if pid == 0 {
		t.Fatalf("hang fixture did not log its child pid (err %v)", err)
	}
	WaitNoMarkedProcs(t, secs, "the function's child process after the Run was cancelled")
}

func (x *execSuite) logFlood(t *testing.T) {
	const capBytes = 20000
	spec := x.spec(x.fx.LogFlood, nil, sdk.Limits{MaxLogBytes: capBytes})
	Prepare(t, x.c, spec)
	// A runtime that sends a run's end before its raw output is in the pipe lets the
	// flood's tail land in the next run: each round floods, then checks a quiet run.
	for round := 1; round <= 8; round++ {
		x.floodOnce(t, spec.Digest, capBytes)
		// Under the cap nothing is dropped.
		envs := Exec(t, x.c, spec.Digest, `{"lines":5}`, RunOpts{})
		if n := len(logs(envs)); n != 10 {
			t.Fatalf("round %d: 5 console + 5 raw lines after a flood: want 10 logs, got %d:\n%s", round, n, dump(envs))
		}
	}
}

// floodOnce runs the flood fixture over capBytes and checks its logs were truncated once.
func (x *execSuite) floodOnce(t *testing.T, digest string, capBytes int) {
	t.Helper()
	// 20000 lines a stream (~4 MB in all): far over the cap and over any pipe buffer.
	envs := Exec(t, x.c, digest, `{"lines":20000}`, RunOpts{})
	wantResult(t, envs, `"flooded"`)
	markers, total := 0, 0
	for _, l := range logs(envs) {
		if strings.Contains(l.Text, "truncated") {
			markers++
			continue
		}
		total += len(l.Text)
	}
	if markers != 1 || total > capBytes {
		t.Fatalf("want one truncation marker and <= %d log bytes, got %d markers, %d bytes", capBytes, markers, total)
	}
}

type probe struct {
	Secret *string `json:"secret"`
	Path   string  `json:"path"`
	Home   string  `json:"home"`
	TmpDir string  `json:"tmpdir"`
	MyVar  string  `json:"myvar"`
	Proc   string  `json:"proc"`
	Fresh  bool    `json:"fresh"`
	Wrote  bool    `json:"wrote"`
}

func (x *execSuite) probe(t *testing.T, c sdk.Executor, digest string) probe {
	t.Helper()
	envs := Exec(t, c, digest, `null`, RunOpts{})
	last := Terminal(envs)
	var p probe
	if last.Type != envelope.TypeResult || json.Unmarshal(last.Output, &p) != nil {
		t.Fatalf("env probe: want a result object, got:\n%s", dump(envs))
	}
	return p
}

func (x *execSuite) env(t *testing.T) {
	spec := x.spec(x.fx.EnvProbe, map[string]string{"MY_VAR": "mine"}, sdk.Limits{})
	Prepare(t, x.c, spec)
	a, b := x.probe(t, x.c, spec.Digest), x.probe(t, x.c, spec.Digest)
	if a.Secret != nil {
		t.Fatalf("the function saw the host's SOUS_SECRET=%q", *a.Secret)
	}
	if a.Path != "/usr/local/bin:/usr/bin:/bin" || a.MyVar != "mine" || a.Home == "" || !a.Wrote {
		t.Fatalf("env probe: %+v", a)
	}
	if a.TmpDir == "" || !a.Fresh || !b.Fresh {
		t.Fatalf("want an empty temp dir at the start of every invocation: %+v then %+v", a, b)
	}
	if a.Proc == "" || a.Proc != b.Proc {
		t.Fatalf("want the warm process reused (process %q then %q)", a.Proc, b.Proc)
	}
}

// pool checks max_processes (LRU eviction of an idle process) and the idle TTL on a
// plugin of its own.
func (x *execSuite) pool(t *testing.T, tg Target) {
	cfg := map[string]any{}
	if tg.Config != "" {
		if err := json.Unmarshal([]byte(tg.Config), &cfg); err != nil {
			t.Fatalf("target config: %v", err)
		}
	}
	cfg["max_processes"], cfg["idle_ttl_ms"] = 1, 1500
	b, _ := json.Marshal(cfg)
	tg.Config, tg.DataDir = string(b), ""
	p := Launch(t, tg, sdk.KindExecutor)
	c := p.Executor
	a := x.spec(x.fx.EnvProbe, map[string]string{"MY_VAR": "a"}, sdk.Limits{})
	o := x.spec(x.fx.EnvProbe, map[string]string{"MY_VAR": "b"}, sdk.Limits{})
	Prepare(t, c, a)
	Prepare(t, c, o)
	pa := x.probe(t, c, a.Digest).Proc
	pb := x.probe(t, c, o.Digest).Proc // evicts a's idle process: max_processes 1
	pa2 := x.probe(t, c, a.Digest).Proc
	if pa2 == pa || pa2 == pb {
		t.Fatalf("want a new process for a after eviction, got %q (old %q, b %q)", pa2, pa, pb)
	}
	waitProcesses(t, p, 0, "an idle process past idle_ttl_ms")
	// With the only slot busy, a second invocation waits for it instead of failing.
	for _, envs := range concurrently(t, c, a.Digest, []string{`null`, `null`}) {
		if Terminal(envs).Type != envelope.TypeResult {
			t.Fatalf("a run waiting for the only slot: want a result, got:\n%s", dump(envs))
		}
	}
}

// concurrently runs one invocation per input at once and returns their envelopes,
// failing the test (from the test goroutine) if a stream breaks.
func concurrently(t *testing.T, c sdk.Executor, digest string, inputs []string) [][]*envelope.Envelope {
	t.Helper()
	out := make([][]*envelope.Envelope, len(inputs))
	errs := make([]error, len(inputs))
	var wg sync.WaitGroup
	for i, in := range inputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			out[i], errs[i] = execStream(ctx, c, digest, in, RunOpts{}, nil)
		}()
	}
	wg.Wait()
	for i := range inputs {
		if errs[i] != nil {
			t.Fatalf("concurrent run %d: %v", i, errs[i])
		}
		checkTerminal(t, out[i])
	}
	return out
}

// sleepMarker is a unique `sleep` argument (seconds) that marks a fixture's child.
func sleepMarker() string { return fmt.Sprintf("300.%09d", time.Now().UnixNano()%1e9) }

// waitProcesses waits (generously) until the plugin reports n harness processes.
func waitProcesses(t testing.TB, p *Plugin, n int, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h, err := p.Health(context.Background())
		if err == nil && h.Details["processes"] == fmt.Sprint(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: want %d harness processes, health says %v (%v)", what, n, h.Details, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
