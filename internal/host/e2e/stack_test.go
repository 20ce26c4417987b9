package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/testenv"
)

// testKey signs the tokens of every process of a test stack.
const testKey = "e2e-test-signing-key-0123456789abcdef"

// stack is a set of `sous serve` processes sharing one configuration.
type stack struct {
	t        *testing.T
	sous     string
	base     string // YAML shared by all processes
	procs    []*proc
	mu       sync.Mutex
	apiURL   string
	admin    string // admin token (tenant default)
	workerTk string
	// prepare, when set, is called with the data dir of each process before it starts
	// (e.g. to mount a small file system there).
	prepare func(dataDir string)
}

// proc is one running host.
type proc struct {
	name string
	role string
	args []string // to start it again on the same data dir and address
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
}

// newStack writes the shared config: plugin binaries, runtimes, the signing key, and
// the given YAML fragment (messaging/events drivers, timeouts).
func newStack(t *testing.T, extraYAML string) *stack {
	t.Helper()
	pluginDir := filepath.Dir(testenv.Plugin(t, "executor-bun"))
	for _, p := range []string{"executor-python", "messaging-redis", "events-redisstream"} {
		if d := filepath.Dir(testenv.Plugin(t, p)); d != pluginDir {
			t.Fatalf("plugins built into different dirs: %s and %s", d, pluginDir)
		}
	}
	base := fmt.Sprintf(`log_level: info
auth: {hs256_key: %q}
plugins:
  dir: %s
  executor:
    drivers: [bun, python]
    bun: {bun: %s}
    python: {python: %s}
%s
`, testKey, pluginDir, testenv.Bun(t), testenv.Python(t), extraYAML)
	au, err := auth.New(auth.Options{HS256Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := au.Issue("e2e", "default", []string{"admin"}, time.Hour)
	wtk, _ := au.Issue("e2e-worker", "default", []string{"worker"}, time.Hour)
	s := &stack{t: t, sous: testenv.Sous(t), base: base, admin: admin, workerTk: wtk}
	t.Cleanup(s.stopAll)
	return s
}

// start runs `sous serve` with role and extra --set pairs; for control/all it waits
// until /readyz answers 200.
func (s *stack) start(name, role string, sets ...string) *proc {
	s.t.Helper()
	dir := s.t.TempDir()
	cfg := filepath.Join(dir, "sous.yaml")
	if err := os.WriteFile(cfg, []byte(s.base), 0o600); err != nil {
		s.t.Fatal(err)
	}
	if s.prepare != nil {
		s.prepare(filepath.Join(dir, "data"))
	}
	args := []string{"serve", "--config", cfg, "--role", role, "--data-dir", filepath.Join(dir, "data")}
	if role != "worker" {
		args = append(args, "--addr", fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(s.t)))
	} else {
		sets = append(sets, "worker.control_url="+s.apiURL, "worker.token="+s.workerTk, "worker.id="+name)
	}
	for _, kv := range sets {
		args = append(args, "--set", kv)
	}
	return s.run(&proc{name: name, role: role, args: args}, dir)
}

// restart starts a process that exited (or was killed) again with the same arguments:
// the same data dir, address and settings.
func (s *stack) restart(p *proc) *proc {
	s.t.Helper()
	return s.run(&proc{name: p.name, role: p.role, args: p.args}, filepath.Dir(p.log.Name()))
}

// run launches p in dir (which holds its config, data and log).
func (s *stack) run(p *proc, dir string) *proc {
	s.t.Helper()
	_ = os.Remove(client.AddrFile(filepath.Join(dir, "data")))
	logf, err := os.OpenFile(filepath.Join(dir, "host.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	name, role := p.name, p.role
	cmd := exec.Command(s.sous, p.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Env = append(os.Environ(), "SOUS_HOST_SECRET=do-not-leak")
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", name, err)
	}
	p.cmd, p.log, p.done = cmd, logf, make(chan struct{})
	go func() { _ = cmd.Wait(); close(p.done) }()
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	if role != "worker" {
		addrFile := client.AddrFile(filepath.Join(dir, "data"))
		s.apiURL = "http://" + waitFile(s.t, p, addrFile)
		waitReady(s.t, p, s.apiURL)
	}
	return p
}

// waitFile returns the trimmed content of a file the process writes.
func waitFile(t *testing.T, p *proc, file string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(file); err == nil && len(b) > 0 {
			return strings.TrimSpace(string(b))
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited during start-up:\n%s", p.name, p.tail())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%s did not write %s:\n%s", p.name, file, p.tail())
	return ""
}

func waitReady(t *testing.T, p *proc, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not ready:\n%s", p.name, p.tail())
}

// tail returns the end of the process log, for failure messages.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log.Name())
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// kill sends SIGKILL to the host (and its plugins, which share its process group).
func (p *proc) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

func (s *stack) stopAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range s.procs {
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		if s.t.Failed() {
			s.t.Logf("--- log of %s ---\n%s", p.name, p.tail())
		}
	}
	s.procs = nil
}

// client returns an API client with the admin token.
func (s *stack) client() *client.Client { return client.New(s.apiURL, s.admin) }

// deploy uploads examples/functions/<name>.
func (s *stack) deploy(name string) {
	s.t.Helper()
	_, req, err := client.PackDir(filepath.Join(testenv.RepoRoot(), "examples", "functions", name))
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.client().Deploy(context.Background(), name, req); err != nil {
		s.t.Fatalf("deploy %s: %v", name, err)
	}
}

// sse opens a raw SSE request and returns the response and a line scanner.
func (s *stack) sse(ctx context.Context, method, path, body string, hdr map[string]string) (*http.Response, *bufio.Scanner) {
	s.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, method, s.apiURL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.admin)
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		s.t.Fatalf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	return resp, bufio.NewScanner(resp.Body)
}
