package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
	"github.com/sous-run/sous/sdk/plugintest"
)

// The attacks of issue #12, each run as a function against the real plugin with the
// sandbox required. Each was seen to succeed against the unsandboxed harness.

// jail launches the plugin with the sandbox required and the given data dir.
func jail(t *testing.T, dataDir string) sdk.Executor {
	t.Helper()
	cfg, _ := json.Marshal(map[string]any{"python": testenv.Python(t), "sandbox": "required", "max_pids": 64})
	return plugintest.Launch(t, plugintest.Target{Path: testenv.Plugin(t, "executor-python"), Config: string(cfg), DataDir: dataDir}, sdk.KindExecutor).Executor
}

// deploy prepares testdata/jail/<name>.py as main.py and returns its digest.
func deploy(t *testing.T, c sdk.Executor, name string, vars map[string]string, lim sdk.Limits) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "jail", name+".py"))
	if err != nil {
		t.Fatal(err)
	}
	spec := plugintest.NewFunc("python", "main.py", map[string]string{"main.py": string(src)}, vars, lim)
	plugintest.Prepare(t, c, spec)
	return spec.Digest
}

func input(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestJailDataDir(t *testing.T) {
	data := t.TempDir()
	secret := plugintest.PlantDataDir(t, data)
	c := jail(t, data)
	d := deploy(t, c, "datadir", nil, sdk.Limits{})
	out := plugintest.ExecOutput(t, c, d, input(map[string]string{"abs": filepath.Join(data, "auth", "hs256.key")}), plugintest.RunOpts{})
	if strings.Contains(string(out.Output), secret) || strings.Contains(out.Message, secret) {
		t.Fatalf("the function read the host's signing key: %s", out.Output)
	}
}

func TestJailOtherBundlesAndRunner(t *testing.T) {
	data := t.TempDir()
	c := jail(t, data)
	secret := plugintest.Token(t)
	victim := deploy(t, c, "victim", map[string]string{"V_SECRET": secret}, sdk.Limits{})
	plugintest.WantResult(t, plugintest.Exec(t, c, victim, `null`, plugintest.RunOpts{}), `"victim-ok `+secret+`"`)
	attacker := deploy(t, c, "bundles", nil, sdk.Limits{})
	out := plugintest.ExecOutput(t, c, attacker, input(map[string]string{"cache": data, "mark": "victim-code-mark", "secret": secret}), plugintest.RunOpts{})
	var got struct{ Read, Wrote []string }
	if out.Type != envelope.TypeResult || json.Unmarshal(out.Output, &got) != nil {
		t.Fatalf("attacker: want a result, got %+v", out)
	}
	if len(got.Read) > 0 || len(got.Wrote) > 0 {
		t.Fatalf("the function reached other bundles or the runner: read %v, wrote %v", got.Read, got.Wrote)
	}
	runners, _ := filepath.Glob(filepath.Join(data, "executor-python", "runner", "*", "runner.py"))
	for _, r := range runners {
		if b, _ := os.ReadFile(r); strings.Contains(string(b), "PWNED") {
			t.Fatalf("runner %s was rewritten", r)
		}
	}
	plugintest.WantResult(t, plugintest.Exec(t, c, victim, `null`, plugintest.RunOpts{}), `"victim-ok `+secret+`"`)
}

func TestJailHostEnviron(t *testing.T) {
	secret := plugintest.Token(t)
	host := exec.Command("sleep", "60")
	host.Env = []string{"SOUS_HOST_SECRET=" + secret}
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { host.Process.Kill(); host.Wait() })
	c := jail(t, "")
	d := deploy(t, c, "environ", nil, sdk.Limits{})
	out := plugintest.ExecOutput(t, c, d, input(map[string]any{"secret": secret, "pid": host.Process.Pid}), plugintest.RunOpts{})
	if strings.Contains(string(out.Output), secret) || strings.Contains(string(out.Output), `"1"`) {
		t.Fatalf("the function read a host process's environment: %s", out.Output)
	}
}

func TestJailSignalParent(t *testing.T) {
	c := jail(t, "")
	d := deploy(t, c, "signal", nil, sdk.Limits{})
	out := plugintest.ExecOutput(t, c, d, input(map[string]any{"test": os.Getpid(), "kill": true}), plugintest.RunOpts{})
	if strings.Contains(string(out.Output), "reachable") {
		t.Fatalf("the function can signal its parent, grandparent or the host: %s", out.Output)
	}
	// The plugin survived the SIGKILL sent to the function's parent.
	v := deploy(t, c, "victim", nil, sdk.Limits{})
	plugintest.WantResult(t, plugintest.Exec(t, c, v, `null`, plugintest.RunOpts{}), `"victim-ok "`)
}

func TestJailLoopbackNone(t *testing.T) {
	l := plugintest.ListenLoopback(t)
	c := jail(t, "")
	d := deploy(t, c, "loopback", nil, sdk.Limits{})
	out := plugintest.ExecOutput(t, c, d, input(map[string]int{"port": l.Port}), plugintest.RunOpts{})
	if l.Accepted() > 0 || strings.Contains(string(out.Output), "connected") {
		t.Fatalf("the function reached a host loopback service: %s", out.Output)
	}
}

// network: outbound reaches beyond the host (here: the host's own external address,
// the way any other machine would) but never the host's loopback services, neither as
// 127.0.0.1 nor through slirp's gateway alias 10.0.2.2.
func TestJailLoopbackOutbound(t *testing.T) {
	lo := plugintest.ListenLoopback(t)
	c := jail(t, "")
	src, _ := os.ReadFile(filepath.Join("testdata", "jail", "reach.py"))
	spec := plugintest.NewFunc("python", "main.py", map[string]string{"main.py": string(src) + "# outbound\n"}, nil, sdk.Limits{})
	spec.Network = "outbound"
	plugintest.Prepare(t, c, spec)
	out := plugintest.ExecOutput(t, c, spec.Digest, input(map[string]any{"port": lo.Port,
		"targets": map[string]string{"loopback": "127.0.0.1", "gateway": "10.0.2.2"}}), plugintest.RunOpts{})
	if lo.Accepted() > 0 || strings.Contains(string(out.Output), "connected") || out.Type != envelope.TypeResult {
		t.Fatalf("network outbound reached a host loopback service: %+v %s", out, out.Output)
	}
	ext := plugintest.ListenExternal(t)
	if ext == nil {
		t.Log("no non-loopback address on this machine: outbound reachability not checked")
		return
	}
	out = plugintest.ExecOutput(t, c, spec.Digest, input(map[string]any{"port": ext.Port,
		"targets": map[string]string{"external": ext.Host}}), plugintest.RunOpts{})
	if !strings.Contains(string(out.Output), "connected +PONG") {
		t.Fatalf("network outbound: want the external address reachable, got %+v %s", out, out.Output)
	}
}

func TestJailCrossTenant(t *testing.T) {
	c := jail(t, "")
	d := deploy(t, c, "tenantleak", nil, sdk.Limits{})
	a, b := plugintest.Token(t), plugintest.Token(t)
	t.Cleanup(func() { os.Remove("/tmp/leak-" + a); os.Remove("/tmp/leak-" + b) })
	plugintest.ExecOutput(t, c, d, input(map[string]string{"secret": a}), plugintest.RunOpts{Tenant: "alice", Version: "1"})
	out := plugintest.ExecOutput(t, c, d, input(map[string]string{"secret": b}), plugintest.RunOpts{Tenant: "bob", Version: "1"})
	if out.Type != envelope.TypeResult || strings.Contains(string(out.Output), a) {
		t.Fatalf("tenant bob saw tenant alice's input through globals or /tmp: %+v", out)
	}
	// The same tenant keeps its warm process, but its temp dir starts empty.
	out = plugintest.ExecOutput(t, c, d, input(map[string]string{"secret": b}), plugintest.RunOpts{Tenant: "bob", Version: "1"})
	if !strings.Contains(string(out.Output), `"globals":["`+b) || strings.Contains(string(out.Output), "leak-") {
		t.Fatalf("same tenant: want the warm process (globals kept) and an empty temp dir, got %s", out.Output)
	}
}

func TestJailSetsidSurvivor(t *testing.T) {
	c := jail(t, "")
	d := deploy(t, c, "survivor", nil, sdk.Limits{Timeout: 1500 * time.Millisecond})
	marker := "sous-survivor-" + plugintest.Token(t)
	envs := plugintest.Exec(t, c, d, input(map[string]string{"marker": marker}), plugintest.RunOpts{})
	plugintest.WantError(t, envs, envelope.KindTimeout)
	plugintest.WaitNoMarkedProcs(t, marker, "a setsid + double-fork child outlived the run's timeout")
}

func TestJailForkBomb(t *testing.T) {
	c := jail(t, "")
	d := deploy(t, c, "forkbomb", nil, sdk.Limits{})
	out := plugintest.ExecOutput(t, c, d, `{"n":200}`, plugintest.RunOpts{})
	var n int
	if out.Type == envelope.TypeResult && json.Unmarshal(out.Output, &n) == nil && n >= 200 {
		t.Fatalf("200 forks were not limited (max_pids 64): %d started", n)
	}
}

// max_cpus bounds the CPU time of the whole tree per second of wall clock (cgroup quota).
func TestJailCPUQuota(t *testing.T) {
	cfg, _ := json.Marshal(map[string]any{"python": testenv.Python(t), "sandbox": "required", "max_cpus": 0.5})
	c := plugintest.Launch(t, plugintest.Target{Path: testenv.Plugin(t, "executor-python"), Config: string(cfg)}, sdk.KindExecutor).Executor
	d := deploy(t, c, "cpuburn", nil, sdk.Limits{})
	out := plugintest.ExecOutput(t, c, d, `{"procs":2,"secs":1.5}`, plugintest.RunOpts{})
	var got struct{ CPU, Wall float64 }
	if out.Type != envelope.TypeResult || json.Unmarshal(out.Output, &got) != nil {
		t.Fatalf("cpu burn: %+v", out)
	}
	t.Logf("cpu %.2f s, wall %.2f s", got.CPU, got.Wall)
	if got.CPU > 0.5*got.Wall*1.5+0.1 {
		t.Fatalf("two busy processes used %.2f s of CPU in %.2f s under max_cpus 0.5", got.CPU, got.Wall)
	}
}

func TestJailForgedEnvelope(t *testing.T) {
	c := jail(t, "")
	d := deploy(t, c, "forge", nil, sdk.Limits{})
	for _, forged := range []string{`{"type":"result","output":"forged"}`, `garbage`} {
		out := plugintest.ExecOutput(t, c, d, input(map[string]any{"n": 1, "forge": forged}), plugintest.RunOpts{})
		if strings.Contains(string(out.Output), "forged") {
			t.Fatalf("a forged envelope on fd 3 became the result: %+v", out)
		}
		// The next call gets its own result, not the previous call's (no desync).
		plugintest.WantResult(t, plugintest.Exec(t, c, d, `{"n":2}`, plugintest.RunOpts{}), `2`)
	}
}

func TestJailStdinEOF(t *testing.T) {
	c := jail(t, "")
	d := deploy(t, c, "stdin", nil, sdk.Limits{Timeout: 5 * time.Second})
	plugintest.WantResult(t, plugintest.Exec(t, c, d, `null`, plugintest.RunOpts{}), `""`)
}

// A nested user namespace (then a mount inside it), io_uring and the kernel keyring
// are refused, while the function still forks and starts a thread. Each refused call
// was seen to succeed before the seccomp filter.
func TestJailKernelSurface(t *testing.T) {
	c := jail(t, t.TempDir())
	d := deploy(t, c, "kernel", nil, sdk.Limits{})
	out := plugintest.ExecOutput(t, c, d, `null`, plugintest.RunOpts{})
	var got map[string]string
	if out.Type != envelope.TypeResult || json.Unmarshal(out.Output, &got) != nil {
		t.Fatalf("want a result, got %+v", out)
	}
	for _, call := range []string{"io_uring_setup", "keyctl", "unshare(CLONE_NEWUSER)", "unshare(CLONE_NEWNS)", "mount", "unshare tool"} {
		if got[call] != "Operation not permitted" {
			t.Errorf("%s from a function: %q, want Operation not permitted", call, got[call])
		}
	}
	if got["forked"] != "yes" || got["thread"] != "ok" {
		t.Errorf("the function could not fork or start a thread: %v", got)
	}
}
