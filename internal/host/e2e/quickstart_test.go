package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/testenv"
)

// readmeFile returns the body of the heredoc `cat > /tmp/greet/<name> <<'EOF'` in the
// README's quickstart: the test deploys exactly the files a reader writes.
func readmeFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)cat > /tmp/greet/` + regexp.QuoteMeta(name) + ` <<'EOF'\n(.*?)\nEOF\n`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("README.md has no `cat > /tmp/greet/%s <<'EOF'` block", name)
	}
	return m[1] + "\n"
}

// devHost is one host process (`sous dev` or `sous serve`) run from the repository
// root like the README does, with ports, data dir and runtimes overridden.
type devHost struct {
	t       *testing.T
	name    string
	sous    string
	dataDir string
	env     []string // added to the environment of the host and of cli commands
	cmd     *exec.Cmd
	out     *os.File // stdout + stderr
	done    chan struct{}
	api     string
}

// startDev starts `sous dev --config configFile` (relative to the repository root)
// on dataDir with extra --set pairs, and waits until its API is ready and the banner is
// printed (the examples are deployed before it).
func startDev(t *testing.T, dataDir, configFile string, sets ...string) *devHost {
	return startDevWith(t, dataDir, configFile, nil, sets...)
}

// startDevWith is startDev with extra arguments for `sous dev` (e.g. --watch).
func startDevWith(t *testing.T, dataDir, configFile string, extra []string, sets ...string) *devHost {
	t.Helper()
	args := append(devArgs(t, configFile, dataDir), extra...)
	args = append(args, testSets(t, sets...)...)
	_ = os.Remove(client.AddrFile(dataDir)) // a previous host's address is stale
	h := launch(t, "sous dev", dataDir, nil, args...)
	h.waitAPI()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(h.log(), "Sous is running at") {
		if time.Now().After(deadline) {
			t.Fatalf("no banner:\n%s", h.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return h
}

// devArgs are `sous dev --config configFile --data-dir dataDir` on free ports.
func devArgs(t *testing.T, configFile, dataDir string) []string {
	return []string{"dev", "--config", configFile, "--data-dir", dataDir, "--addr", freeAddr(t),
		"--set", "plugins.messaging.codeq.producer_addr=" + freeAddr(t),
		"--set", "plugins.messaging.codeq.worker_addr=" + freeAddr(t),
		"--set", "plugins.messaging.codeq.http_addr=" + freeAddr(t)}
}

func freeAddr(t *testing.T) string { return fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)) }

// testSets are the --set flags that point a host at the test's plugin binaries and
// runtimes, followed by extra key=value pairs.
func testSets(t *testing.T, extra ...string) []string {
	for _, p := range []string{"executor-bun", "executor-python", "messaging-redis", "events-redisstream"} {
		testenv.Plugin(t, p)
	}
	kvs := append([]string{"plugins.dir=" + filepath.Dir(testenv.Plugin(t, "messaging-codeq")),
		"plugins.executor.bun.bun=" + testenv.Bun(t), "plugins.executor.python.python=" + testenv.Python(t)}, extra...)
	var args []string
	for _, kv := range kvs {
		args = append(args, "--set", kv)
	}
	return args
}

// launch starts `sous <args>` from the repository root with env added to the
// environment; the test's end is its Ctrl-C. The CLI helpers use dataDir and env.
// Each host gets a private XDG_STATE_HOME (where `sous dev` records itself for the
// CLI), which its cli commands share.
func launch(t *testing.T, name, dataDir string, env []string, args ...string) *devHost {
	t.Helper()
	env = append([]string{"XDG_STATE_HOME=" + t.TempDir()}, env...)
	out, err := os.CreateTemp(t.TempDir(), "host-*.log")
	if err != nil {
		t.Fatal(err)
	}
	h := &devHost{t: t, name: name, sous: testenv.Sous(t), dataDir: dataDir, env: env, out: out, done: make(chan struct{})}
	h.cmd = exec.Command(h.sous, args...)
	h.cmd.Dir = testenv.RepoRoot()
	h.cmd.Env = append(os.Environ(), env...)
	h.cmd.Stdout, h.cmd.Stderr = out, out
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.cmd.Wait(); close(h.done) }()
	t.Cleanup(func() {
		h.interrupt()
		if t.Failed() {
			t.Logf("--- %s output ---\n%s", name, h.log())
		}
	})
	return h
}

// waitAPI waits for the address the host writes into its data dir and for /readyz.
func (h *devHost) waitAPI() {
	h.t.Helper()
	p := &proc{name: h.name, cmd: h.cmd, log: h.out, done: h.done}
	h.api = "http://" + waitFile(h.t, p, client.AddrFile(h.dataDir))
	waitReady(h.t, p, h.api)
}

func (h *devHost) log() string {
	b, _ := os.ReadFile(h.out.Name())
	return string(b)
}

// interrupt is Ctrl-C: SIGINT to the host only, then wait for it to exit.
func (h *devHost) interrupt() {
	select {
	case <-h.done:
		return
	default:
	}
	_ = h.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-h.done:
	case <-time.After(30 * time.Second):
		h.t.Errorf("%s did not exit 30 s after SIGINT", h.name)
		_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL)
		<-h.done
	}
}

// cli runs `sous <args> --data-dir <dataDir>` from the repository root and returns
// stdout, stderr and whether it exited 0.
func (h *devHost) cli(args ...string) (stdout, stderr string, ok bool) {
	h.t.Helper()
	return h.cliIn(testenv.RepoRoot(), append(args, "--data-dir", h.dataDir)...)
}

// cliIn runs `sous <args>` in dir, with no --data-dir: the CLI finds the host itself.
func (h *devHost) cliIn(dir string, args ...string) (stdout, stderr string, ok bool) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.sous, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), h.env...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	return o.String(), e.String(), err == nil
}

// must is cli that fails the test unless the command succeeds.
func (h *devHost) must(args ...string) (stdout, stderr string) {
	h.t.Helper()
	o, e, ok := h.cli(args...)
	if !ok {
		h.t.Fatalf("sous %s failed:\nstdout: %s\nstderr: %s", strings.Join(args, " "), o, e)
	}
	return o, e
}

// TestQuickstart follows README "Quickstart" in its order against the real binary.
// eventTimeRe matches a sous logs line: event id, then the event's wall-clock time.
var eventTimeRe = regexp.MustCompile(`^\S+\s+\d\d:\d\d:\d\d\.\d\d\d\s`)

func TestQuickstart(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), ".sous")
	h := startDev(t, dataDir, "configs/sous.yaml")

	// Step 1: the examples are deployed.
	out, _ := h.must("ls")
	for _, fn := range []string{"hello-bun", "stream-bun", "hello-python", "stream-python", "chatty", "fails", "slow"} {
		if !strings.Contains(out, fn) {
			t.Errorf("sous ls does not list %s:\n%s", fn, out)
		}
	}

	// Step 2: invoke as JSON, and as a live stream.
	if out, _ = h.must("invoke", "hello-bun", "--data", `{"name":"you"}`); out != `{"hello":"you","runtime":"bun","env":"dev"}`+"\n" {
		t.Errorf("invoke hello-bun printed %q", out)
	}
	if out, _ = h.must("invoke", "stream-bun", "--stream", "--data", `{"text":"tokens arrive live","delay_ms":150}`); out != "tokens arrive live \n{\"tokens\":3}\n" {
		t.Errorf("invoke stream-bun --stream printed %q", out)
	}
	checkRawSSE(t, h)

	// Step 3: deploy your own function.
	own := filepath.Join(filepath.Dir(dataDir), "greet") // beside .sous, as in a project directory
	if err := os.MkdirAll(own, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sous.yaml", "main.py"} {
		if err := os.WriteFile(filepath.Join(own, name), []byte(readmeFile(t, name)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, _ = h.must("deploy", own); !strings.Contains(out, "greet") || !strings.Contains(out, "version 1") || !strings.Contains(out, "digest") {
		t.Errorf("sous deploy printed %q; want the function, version 1 and the digest", out)
	}
	out, errOut := h.must("invoke", "greet", "--data", `{"name":"Ada"}`)
	if out != `{"greeting":"Hello, Ada!","version":"1"}`+"\n" || !strings.Contains(errOut, "[stdout] greeting Ada") {
		t.Errorf("invoke greet: stdout %q stderr %q", out, errOut)
	}
	checkFirstHour(t, h, own)

	// Step 4: dev shows logs; promote to prod and they are gone.
	if _, errOut, ok := h.cli("invoke", "chatty", "--env", "prod"); ok || !strings.Contains(errOut, "`sous promote chatty --to prod`") {
		t.Errorf("invoke of an alias not set yet: ok=%v %q", ok, errOut)
	}
	out, errOut = h.must("invoke", "chatty", "--data", `{"lines":3}`)
	if out != `{"logged":4,"env":"dev"}`+"\n" || strings.Count(errOut, "[stdout] debug line") != 3 || !strings.Contains(errOut, "[stderr] warn") {
		t.Errorf("chatty in dev: stdout %q stderr %q", out, errOut)
	}
	if out, _ = h.must("promote", "chatty"); !strings.Contains(out, "chatty prod -> version 1") {
		t.Errorf("promote printed %q", out)
	}
	out, errOut = h.must("invoke", "chatty", "--env", "prod", "--data", `{"lines":3}`)
	if out != `{"logged":4,"env":"prod"}`+"\n" || errOut != "" {
		t.Errorf("chatty in prod: stdout %q, stderr %q (want no logs)", out, errOut)
	}

	// Step 5: async, then the record and the events.
	id, _ := h.must("invoke", "stream-python", "--async", "--data", `{"n":3}`)
	id = strings.TrimSpace(id)
	out, _ = h.must("logs", id)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for n, l := range lines {
		if !eventTimeRe.MatchString(l) {
			t.Errorf("sous logs line %d has no time: %q", n+1, l)
		}
	}
	wantLines := []string{"status running attempt 1", `chunk  seq 1 {"i":1,"running_total":1}`, `chunk  seq 2 {"i":2,"running_total":3}`,
		`chunk  seq 3 {"i":3,"running_total":6}`, `result {"sum":6}`, "done"}
	if len(lines) != len(wantLines) {
		t.Errorf("sous logs %s printed %d lines, want one per event:\n%s", id, len(lines), out)
	} else {
		for n, w := range wantLines {
			if !strings.Contains(lines[n], w) {
				t.Errorf("sous logs line %d is %q, want it to contain %q", n+1, lines[n], w)
			}
		}
	}
	if out, _ = h.must("invocations", "--function", "stream-python", "--status", "succeeded"); !strings.Contains(out, id) || !strings.Contains(out, "STATUS") {
		t.Errorf("sous invocations --function stream-python does not list %s:\n%s", id, out)
	}
	rec := getRecord(t, h, id)
	if rec.Status != "succeeded" || string(rec.Output) != `{"sum":6}` {
		t.Errorf("sous get %s: %+v", id, rec)
	}

	// The other examples: Python hello, and a failing function (kind user).
	if out, _ = h.must("invoke", "hello-python"); out != `{"hello":"world","runtime":"python","env":"dev"}`+"\n" {
		t.Errorf("invoke hello-python printed %q", out)
	}
	out, errOut, ok := h.cli("invoke", "fails")
	if ok || !strings.Contains(errOut, "failed (user): Error: something went wrong on purpose") || !strings.Contains(errOut, "[stdout] about to fail") {
		t.Errorf("invoke fails: exit ok=%v stdout %q stderr %q", ok, out, errOut)
	}
	var failed client.InvokeResult
	out, _, _ = h.cli("invoke", "fails", "--output", "json", "--data", `{"reason":"bad input"}`)
	if err := json.Unmarshal([]byte(out), &failed); err != nil || failed.Status != "failed" || failed.Error == nil ||
		failed.Error.Kind != "user" || !strings.Contains(failed.Error.Message, "bad input") {
		t.Errorf("invoke fails --output json: %q (%v)", out, err)
	}

	checkSecondHost(t, h)

	// Ctrl-C stops the host and every process it started.
	pids := descendants(h.cmd.Process.Pid)
	if len(pids) < 3 {
		t.Fatalf("sous dev has %d descendant processes, want at least its 3 plugins: %v", len(pids), pids)
	}
	t.Logf("Ctrl-C: sous dev has %d descendant processes (plugins and harnesses)", len(pids))
	h.interrupt()
	if code := h.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("sous dev exited %d after SIGINT", code)
	}
	// A jailed harness dies with its PID namespace, which the kernel tears down just
	// after its init is killed: give that a moment, then nothing may be left.
	deadline := time.Now().Add(5 * time.Second)
	for pid, start := range pids {
		for alive(pid, start) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(pid, start) {
			t.Errorf("process %d (%s) survived Ctrl-C of sous dev", pid, testenv.Cmdline(pid))
		}
	}

	// The next `sous dev` finds the functions, the aliases and past invocations.
	h2 := startDev(t, dataDir, "configs/sous.yaml")
	if strings.Contains(h2.log(), "deployed ") {
		t.Errorf("second sous dev redeployed examples:\n%s", h2.log())
	}
	out, _ = h2.must("ls")
	if !strings.Contains(out, "greet") || !strings.Contains(out, "prod=1") {
		t.Errorf("after restart sous ls:\n%s", out)
	}
	if rec := getRecord(t, h2, id); rec.Status != "succeeded" || string(rec.Output) != `{"sum":6}` {
		t.Errorf("after restart sous get %s: %+v", id, rec)
	}
	if out, _ = h2.must("invoke", "greet", "--data", `{"name":"again"}`); out != `{"greeting":"Hello, again!","version":"1"}`+"\n" {
		t.Errorf("after restart invoke greet printed %q", out)
	}
}

// checkRawSSE is README's curl -N -H 'Accept: text/event-stream' on stream-python.
func checkRawSSE(t *testing.T, h *devHost) {
	t.Helper()
	tok, err := os.ReadFile(filepath.Join(h.dataDir, "auth", "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", h.api+"/v1/functions/stream-python/invoke", strings.NewReader(`{"n":3}`))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("SSE invoke: HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var types, data []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			types = append(types, v)
		}
		if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			data = append(data, v)
		}
	}
	want := []string{"status", "chunk", "chunk", "chunk", "result", "done"}
	if !slices.Equal(types, want) {
		t.Fatalf("SSE event types %v, want %v", types, want)
	}
	for i := 1; i <= 3; i++ {
		if !strings.Contains(data[i], fmt.Sprintf(`"seq":%d`, i)) {
			t.Errorf("chunk %d out of order: %s", i, data[i])
		}
	}
	if !strings.Contains(data[4], `"output":{"sum":6}`) {
		t.Errorf("result event %s", data[4])
	}
}

// record is the part of `sous get --output json` the test reads.
type record struct {
	Status string          `json:"status"`
	Output json.RawMessage `json:"output"`
}

func getRecord(t *testing.T, h *devHost, id string) record {
	t.Helper()
	out, _ := h.must("get", id, "--output", "json")
	var r record
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("sous get %s --output json: %v\n%s", id, err, out)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, r.Output); err == nil {
		r.Output = buf.Bytes()
	}
	return r
}

// TestQuickstartRedisOneLine is README "Switch to Redis": configs/sous.yaml with the
// messaging driver line edited to redis; events stay embedded, one process serves all.
func TestQuickstartRedisOneLine(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "configs", "sous.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(b), "    driver: codeq ", "    driver: redis ", 1)
	if edited == string(b) {
		t.Fatal("configs/sous.yaml has no line `    driver: codeq ` to edit")
	}
	cfg := filepath.Join(t.TempDir(), "sous.yaml")
	if err := os.WriteFile(cfg, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	r := testenv.StartRedis(t)
	h := startDev(t, filepath.Join(t.TempDir(), ".sous"), cfg,
		"plugins.messaging.redis.url="+r.URL)
	if !strings.Contains(h.log(), "starting plugins (redis messaging, embedded events") {
		t.Fatalf("not on redis messaging:\n%s", h.log())
	}
	if pids := descendants(h.cmd.Process.Pid); !slices.ContainsFunc(slices.Collect(maps.Keys(pids)), func(p int) bool {
		return strings.Contains(testenv.Cmdline(p), "sous-plugin-messaging-redis")
	}) {
		t.Fatalf("no messaging-redis plugin under sous dev")
	}
	if out, _ := h.must("invoke", "hello-python", "--data", `{"name":"redis"}`); out != `{"hello":"redis","runtime":"python","env":"dev"}`+"\n" {
		t.Errorf("invoke hello-python on redis printed %q", out)
	}
	if out, _ := h.must("invoke", "stream-bun", "--stream", "--data", `{"text":"over redis"}`); out != "over redis \n{\"tokens\":2}\n" {
		t.Errorf("invoke stream-bun --stream on redis printed %q", out)
	}
}
