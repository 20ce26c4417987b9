package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"

	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/host/status"
	"github.com/sous-run/sous/internal/testenv"
)

// TestObservabilityOverRedis runs the split-roles Redis stack with metrics, status
// and trace export on, and checks what an operator sees: every process's /metrics
// passes `promtool check metrics` and has the Sous metrics; `sous status` lists the
// control and worker processes, plugins, queues and recent invocations; a real OTLP
// receiver gets one connected trace for an invocation, continuing the caller's
// traceparent through control, messaging, worker, executor, harness and events, with
// the invocation id on every span — and the function reads the trace from ctx.
func TestObservabilityOverRedis(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install the Debian package prometheus (.ci/run does)")
	}
	rs := testenv.StartRedis(t)
	otlp := startOTLP(t)
	s := newStack(t, redisYAML(rs.URL, "10s")+fmt.Sprintf("telemetry: {heartbeat_interval: 1, otlp: {endpoint: %q}}\n", otlp.addr))
	s.start("control", "control")
	workerMetrics := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	s.start("w1", "worker", "telemetry.metrics_addr="+workerMetrics)
	s.deploy("hello-bun")
	s.deploy("fails")
	// trace-py returns what its ctx says of the trace; sleepy outlives its timeout.
	deployPython(t, s, "trace-py", "10s", "def handler(input, ctx):\n    return {\"traceparent\": ctx.traceparent}\n")
	deployPython(t, s, "sleepy", "1s", "import time\n\ndef handler(input, ctx):\n    time.sleep(30)\n")
	ctx := context.Background()

	// One traced invocation: the caller's traceparent is continued.
	traceID, parentSpan := "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, _ := http.NewRequest("POST", s.apiURL+"/v1/functions/trace-py/invoke", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+s.admin)
	req.Header.Set("traceparent", "00-"+traceID+"-"+parentSpan+"-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var res struct {
		InvocationID string `json:"invocation_id"`
		Status       string `json:"status"`
		Output       struct {
			Traceparent string `json:"traceparent"`
		} `json:"output"`
	}
	if err := json.Unmarshal(body, &res); err != nil || res.Status != "succeeded" {
		t.Fatalf("traced invoke: HTTP %d %s", resp.StatusCode, body)
	}
	c := s.client()
	for _, fn := range []string{"hello-bun", "fails"} {
		if _, err := c.Invoke(ctx, fn, []byte(`{}`), client.InvokeOptions{}); err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
	}
	if _, err := c.Invoke(ctx, "sleepy", []byte(`{}`), client.InvokeOptions{}); err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("sleepy: %v, want a timeout", err)
	}

	t.Run("one connected trace across the hops", func(t *testing.T) {
		want := []string{"control.submit", "messaging.Enqueue", "worker.run", "executor.Run", "harness.run", "events.Publish", "messaging.Ack", "control.follow", "events.Read"}
		spans := otlp.waitTrace(t, traceID, want)
		byID := map[string]*tracepb.Span{}
		for _, sp := range spans {
			byID[hex.EncodeToString(sp.SpanId)] = sp
		}
		var harness *tracepb.Span
		for _, sp := range spans {
			parent := hex.EncodeToString(sp.ParentSpanId)
			if _, ok := byID[parent]; !ok && parent != parentSpan {
				t.Errorf("span %s has parent %s, which is neither the caller's span nor in the trace", sp.Name, parent)
			}
			if id := attr(sp, "sous.invocation_id"); id != res.InvocationID {
				t.Errorf("span %s has sous.invocation_id %q, want %s", sp.Name, id, res.InvocationID)
			}
			if sp.Name == "harness.run" {
				harness = sp
			}
		}
		wantTP := "00-" + traceID + "-" + hex.EncodeToString(harness.SpanId) + "-01"
		if res.Output.Traceparent != wantTP {
			t.Errorf("the function read ctx.traceparent %q, want %q (the harness.run span)", res.Output.Traceparent, wantTP)
		}
		t.Logf("trace %s:\n%s", traceID, spanTree(spans, parentSpan))
	})

	t.Run("promtool accepts every process's metrics", func(t *testing.T) {
		// The worker's last run may still be handing its process back to the pool.
		var worker string
		for deadline := time.Now().Add(15 * time.Second); ; {
			worker = scrape(t, "http://"+workerMetrics+"/metrics")
			if strings.Contains(worker, "sous_worker_runs_in_progress 0") &&
				strings.Contains(worker, `sous_executor_processes{plugin="executor-bun",runtime="bun",state="busy"} 0`) || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		control := scrape(t, s.apiURL+"/metrics")
		for name, text := range map[string]string{"control": control, "worker": worker} {
			cmd := exec.Command(promtool, "check", "metrics")
			cmd.Stdin = strings.NewReader(text)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("promtool check metrics on %s's /metrics: %v\n%s", name, err, out)
			}
		}
		mustHave(t, "control", control,
			`sous_invocations_started_total{runtime="python"} 2`,
			`sous_invocations_finished_total{error_kind="",runtime="python",status="succeeded"} 1`,
			`sous_invocations_finished_total{error_kind="user",runtime="bun",status="failed"} 1`,
			`sous_invocations_finished_total{error_kind="timeout",runtime="python",status="timeout"} 1`,
			`sous_queue_tasks{command="sous.fn.default.hello-bun",state="pending"} 0`,
			`sous_queue_tasks{command="sous.run.bun",state="pending"} 0`,
			`sous_queue_stats_up 1`,
			`sous_plugin_up{driver="redis",kind="messaging",plugin="messaging-redis"} 1`,
			`sous_plugin_restarts_total{driver="redisstream",kind="events",plugin="events-redisstream"} 0`,
			`sous_store_size_bytes `,
			`sous_plugin_process_resident_memory_bytes{plugin="messaging-redis"}`,
			`sous_build_info{role="control",`,
		)
		mustHave(t, "worker", worker,
			`sous_invocation_stage_duration_seconds_count{runtime="python",stage="queue_wait"} 2`,
			`sous_invocation_stage_duration_seconds_count{runtime="bun",stage="run"} 2`,
			`sous_invocation_stage_duration_seconds_count{runtime="python",stage="total"} 2`,
			`sous_executor_limit_kills_total{limit="timeout",plugin="executor-python",runtime="python"} 1`,
			`sous_executor_limit_kills_total{limit="memory",plugin="executor-python",runtime="python"} 0`,
			`sous_invocation_stage_duration_seconds_bucket{runtime="python",stage="event_delivery",le="+Inf"}`,
			`sous_executor_cold_start_duration_seconds_count{plugin="executor-bun",runtime="bun"} 2`,
			`sous_executor_processes{plugin="executor-bun",runtime="bun",state="idle"} 2`,
			`sous_executor_processes{plugin="executor-python",runtime="python",state="busy"} 0`,
			`sous_events_published_total `,
			`sous_worker_runs_in_progress 0`,
			`sous_plugin_up{driver="bun",kind="executor",plugin="executor-bun"} 1`,
			`go_goroutines `,
		)
		for _, name := range dashboardMetrics(t) {
			if !strings.Contains(control, "\n"+name) && !strings.Contains(worker, "\n"+name) {
				t.Errorf("configs/grafana-dashboard.json queries %s, which no process exposes", name)
			}
		}
	})

	t.Run("sous status", func(t *testing.T) {
		var rep status.Report
		deadline := time.Now().Add(15 * time.Second)
		for {
			out := runSous(t, s, "status", "--output", "json")
			if err := json.Unmarshal(out, &rep); err != nil {
				t.Fatalf("sous status --output json: %v\n%s", err, out)
			}
			// Wait for a beat sent after the last run handed its process back.
			if len(rep.Processes) == 2 && rep.Processes[1].Running == 0 && rep.Processes[1].Warm["bun"] != nil &&
				rep.Processes[1].Warm["bun"].Idle == 2 || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if len(rep.Processes) != 2 || rep.Processes[0].Role != "control" || rep.Processes[1].ID != "w1" {
			t.Fatalf("processes: %+v", rep.Processes)
		}
		w := rep.Processes[1]
		if w.Version == "" || w.Concurrency != 4 || len(w.Plugins) != 4 || w.Warm["bun"] == nil || w.Warm["bun"].Idle != 2 {
			t.Fatalf("worker w1: %+v (warm bun %+v)", w, w.Warm["bun"])
		}
		for _, p := range w.Plugins {
			if !p.Healthy {
				t.Fatalf("plugin %s of w1 unhealthy: %s", p.Name, p.Reason)
			}
		}
		// One queue per deployed function (tenant, then name order), then the runtime queues.
		if rep.QueueError != "" || len(rep.Queue) != 6 || rep.Queue[0].Command != "sous.fn.default.fails" || rep.Queue[4].Command != "sous.run.bun" {
			t.Fatalf("queue: %+v (%s)", rep.Queue, rep.QueueError)
		}
		if rep.Invocations.ByStatus["succeeded"] != 2 || rep.Invocations.ByStatus["failed"] != 1 || rep.Invocations.ByStatus["timeout"] != 1 {
			t.Fatalf("recent invocations: %+v", rep.Invocations)
		}
		// Status is for operators: a worker's token is refused, a heartbeat without id too.
		if err := client.New(s.apiURL, s.workerTk).Do(ctx, "GET", status.StatusPath, nil, nil); err == nil || !strings.Contains(err.Error(), "403") {
			t.Fatalf("status with a worker token: %v, want 403", err)
		}
		if err := client.New(s.apiURL, s.workerTk).Do(ctx, "POST", status.HeartbeatPath, map[string]any{}, nil); err == nil || !strings.Contains(err.Error(), "400") {
			t.Fatalf("heartbeat without id: %v, want 400", err)
		}
		text := string(runSous(t, s, "status"))
		for _, want := range []string{"w1", "worker", "executor-python", "healthy", "sous.fn.default.trace-py", "sous.run.python", "failed 1, succeeded 2, timeout 1"} {
			if !strings.Contains(text, want) {
				t.Fatalf("sous status lacks %q:\n%s", want, text)
			}
		}
		t.Logf("sous status:\n%s", text)
	})
}

// TestMetricsAllInOne checks the default topology's one process (role all: the codeq
// driver with its embedded broker, the embedded event log, both executors) the same
// way: promtool accepts its /metrics, which relays every plugin's.
func TestMetricsAllInOne(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install the Debian package prometheus (.ci/run does)")
	}
	s := newStack(t, "")
	s.start("all", "all", "plugins.messaging.codeq.producer_addr="+freeAddr(t),
		"plugins.messaging.codeq.worker_addr="+freeAddr(t), "plugins.messaging.codeq.http_addr="+freeAddr(t))
	s.deploy("hello-python")
	if _, err := s.client().Invoke(context.Background(), "hello-python", []byte(`{}`), client.InvokeOptions{}); err != nil {
		t.Fatal(err)
	}
	// The worker observes the total stage once the ack is answered, which may come
	// after the caller's answer: scrape once it is in.
	text := scrapeUntil(t, s.apiURL+"/metrics", `sous_invocation_stage_duration_seconds_count{runtime="python",stage="total"} 1`)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	mustHave(t, "all", text,
		`sous_invocations_finished_total{error_kind="",runtime="python",status="succeeded"} 1`,
		`sous_invocation_stage_duration_seconds_count{runtime="python",stage="total"} 1`,
		`sous_plugin_up{driver="codeq",kind="messaging",plugin="messaging-codeq"} 1`,
		`sous_plugin_process_open_fds{plugin="messaging-codeq"}`,
		`sous_executor_processes{plugin="executor-python",runtime="python",state="idle"} 1`,
		`sous_queue_tasks{command="sous.run.python",state="dead"} 0`,
		`sous_queue_tasks{command="sous.fn.default.hello-python",state="dead"} 0`,
	)
}

// deployPython deploys a one-file Python function with the given timeout.
func deployPython(t *testing.T, s *stack, name, timeout, code string) {
	dir := t.TempDir()
	for file, body := range map[string]string{
		"sous.yaml": fmt.Sprintf("name: %s\nruntime: python\nentry: main.py\ntimeout: %s\n", name, timeout),
		"main.py":   code,
	} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, req, err := client.PackDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.client().Deploy(context.Background(), name, req); err != nil {
		t.Fatal(err)
	}
}

func runSous(t *testing.T, s *stack, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(s.sous, append(args, "--api", s.apiURL, "--token", s.admin)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sous %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: HTTP %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

// scrapeUntil scrapes url until the text holds line (for up to 10 s) and returns the
// last scrape.
func scrapeUntil(t *testing.T, url, line string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		text := scrape(t, url)
		if strings.Contains(text, line) || time.Now().After(deadline) {
			return text
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustHave(t *testing.T, name, text string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(text, l) {
			t.Errorf("%s /metrics lacks %q", name, l)
		}
	}
}

// dashboardMetrics lists the metric names the shipped Grafana dashboard queries.
func dashboardMetrics(t *testing.T) []string {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "configs", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Targets []struct{ Expr string } `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("configs/grafana-dashboard.json: %v", err)
	}
	seen := map[string]bool{}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			for _, m := range regexp.MustCompile(`sous_[a-z_]+`).FindAllString(tg.Expr, -1) {
				seen[m] = true
			}
		}
	}
	if len(seen) < 10 {
		t.Fatalf("the dashboard queries only %v", seen)
	}
	return slices.Sorted(maps.Keys(seen))
}

func attr(sp *tracepb.Span, key string) string {
	for _, a := range sp.Attributes {
		if a.Key == key {
			return a.Value.GetStringValue()
		}
	}
	return ""
}

// spanTree prints spans as a tree under root (the caller's span id).
func spanTree(spans []*tracepb.Span, root string) string {
	kids := map[string][]*tracepb.Span{}
	first := spans[0].StartTimeUnixNano
	for _, sp := range spans {
		first = min(first, sp.StartTimeUnixNano)
		p := hex.EncodeToString(sp.ParentSpanId)
		kids[p] = append(kids[p], sp)
	}
	var b strings.Builder
	var walk func(id string, depth int)
	walk = func(id string, depth int) {
		list := kids[id]
		sort.Slice(list, func(i, j int) bool { return list[i].StartTimeUnixNano < list[j].StartTimeUnixNano })
		for _, sp := range list {
			ms := float64(sp.EndTimeUnixNano-sp.StartTimeUnixNano) / 1e6
			at := float64(sp.StartTimeUnixNano-first) / 1e6
			fmt.Fprintf(&b, "%s%-*s +%7.1f ms  %7.1f ms\n", strings.Repeat("  ", depth), 24-2*depth, sp.Name, at, ms)
			walk(hex.EncodeToString(sp.SpanId), depth+1)
		}
	}
	fmt.Fprintf(&b, "(caller %s)%*s  start     duration\n", root, 6, "")
	walk(root, 1)
	return b.String()
}

// otlpReceiver is a real OTLP/gRPC trace receiver on loopback.
type otlpReceiver struct {
	collectortrace.UnimplementedTraceServiceServer
	addr  string
	mu    sync.Mutex
	spans []*tracepb.Span
}

func startOTLP(t *testing.T) *otlpReceiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &otlpReceiver{addr: ln.Addr().String()}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, r)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return r
}

func (r *otlpReceiver) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			r.spans = append(r.spans, ss.Spans...)
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// waitTrace waits until the trace has a span of every wanted name, then returns its spans.
func (r *otlpReceiver) waitTrace(t *testing.T, traceID string, names []string) []*tracepb.Span {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r.mu.Lock()
		var got []*tracepb.Span
		have := map[string]bool{}
		for _, sp := range r.spans {
			if hex.EncodeToString(sp.TraceId) == traceID {
				got = append(got, sp)
				have[sp.Name] = true
			}
		}
		r.mu.Unlock()
		var missing []string
		for _, n := range names {
			if !have[n] {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s lacks spans %v; has %v", traceID, missing, have)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
