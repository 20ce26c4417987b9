package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
	"github.com/sous-run/sous/sdk/plugintest"
)

// Attacks of issue #12 in Bun against the real plugin with the sandbox required
// (the filesystem, network, tenant and fork attacks are in executor-python; the
// sandbox is the same harness code). Each was seen to succeed without the sandbox.

func jail(t *testing.T) sdk.Executor {
	t.Helper()
	return plugintest.Launch(t, targetWith(t, "required"), sdk.KindExecutor).Executor
}

func deploy(t *testing.T, c sdk.Executor, name string, lim sdk.Limits) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "jail", name+".ts"))
	if err != nil {
		t.Fatal(err)
	}
	spec := plugintest.NewFunc("bun", "main.ts", map[string]string{"main.ts": string(src)}, nil, lim)
	plugintest.Prepare(t, c, spec)
	return spec.Digest
}

// A child process's memory counts against memory_mb: the cgroup covers the tree.
func TestJailChildMemory(t *testing.T) {
	c := jail(t)
	d := deploy(t, c, "childmem", sdk.Limits{MemoryMB: 128, Timeout: 20 * time.Second})
	envs := plugintest.Exec(t, c, d, `{"mb":600}`, plugintest.RunOpts{})
	last := plugintest.Terminal(envs)
	if strings.Contains(string(last.Output), "allocated") {
		t.Fatalf("a child process allocated 600 MB under memory_mb 128: %s", last.Output)
	}
	plugintest.WantError(t, envs, envelope.KindLimit, "memory_mb 128")
}

func TestJailForgedEnvelope(t *testing.T) {
	c := jail(t)
	d := deploy(t, c, "forge", sdk.Limits{})
	for _, forged := range []string{`{"type":"result","output":"forged"}`, `garbage`} {
		b, _ := json.Marshal(map[string]any{"n": 1, "forge": forged})
		out := plugintest.ExecOutput(t, c, d, string(b), plugintest.RunOpts{})
		if strings.Contains(string(out.Output), "forged") {
			t.Fatalf("a forged envelope on fd 3 became the result: %s", out.Output)
		}
		plugintest.WantResult(t, plugintest.Exec(t, c, d, `{"n":2}`, plugintest.RunOpts{}), `2`)
	}
}

func TestJailStdinEOF(t *testing.T) {
	c := jail(t)
	d := deploy(t, c, "stdin", sdk.Limits{Timeout: 5 * time.Second})
	plugintest.WantResult(t, plugintest.Exec(t, c, d, `null`, plugintest.RunOpts{}), `""`)
}

func TestJailSignalParent(t *testing.T) {
	c := jail(t)
	d := deploy(t, c, "signal", sdk.Limits{})
	b, _ := json.Marshal(map[string]any{"test": os.Getpid(), "kill": true})
	out := plugintest.ExecOutput(t, c, d, string(b), plugintest.RunOpts{})
	if strings.Contains(string(out.Output), "reachable") {
		t.Fatalf("the function can signal its parent or the host: %s", out.Output)
	}
	plugintest.WantResult(t, plugintest.Exec(t, c, deploy(t, c, "victim", sdk.Limits{}), `null`, plugintest.RunOpts{}), `"victim-ok"`)
}

// A nested user namespace (the unshare tool) is refused by the seccomp filter, while a
// child process and a worker thread still start. Seen to succeed before the filter.
func TestJailKernelSurface(t *testing.T) {
	c := jail(t)
	out := plugintest.ExecOutput(t, c, deploy(t, c, "kernel", sdk.Limits{}), `null`, plugintest.RunOpts{})
	var got struct{ Unshare, Child, Thread string }
	if out.Type != envelope.TypeResult || json.Unmarshal(out.Output, &got) != nil {
		t.Fatalf("want a result, got %+v", out)
	}
	if !strings.Contains(got.Unshare, "Operation not permitted") || got.Child != "ok" || got.Thread != "thread ok" {
		t.Fatalf("unshare from a function: %q (want Operation not permitted), a plain child: %q, a worker thread: %q", got.Unshare, got.Child, got.Thread)
	}
}
