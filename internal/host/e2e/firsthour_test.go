package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/testenv"
)

// checkFirstHour covers what got a newcomer stuck, against a running dev host h
// whose function greet (version 1) lives in own, beside h's data directory.
func checkFirstHour(t *testing.T, h *devHost, own string) {
	t.Helper()
	// From the function's own directory the CLI walks up to the .sous beside it;
	// an identical deploy is the version already there.
	if out, errOut, ok := h.cliIn(own, "deploy", "."); !ok || !strings.Contains(out, "greet unchanged, still version 1") {
		t.Errorf("sous deploy . from %s: ok=%v %q %q", own, ok, out, errOut)
	}
	// From anywhere else: the dev host `sous dev` recorded for this user.
	if out, errOut, ok := h.cliIn(t.TempDir(), "ls"); !ok || !strings.Contains(out, "greet") {
		t.Errorf("sous ls from an unrelated directory: ok=%v %q %q", ok, out, errOut)
	}

	// Code that does not parse, or imports what does not resolve, is refused with
	// file:line:column, and nothing is deployed.
	parent := filepath.Dir(own)
	for _, tc := range []struct{ name, runtime, entry, code, want string }{
		{"broken-py", "python", "main.py", "def handler(input, ctx):\n    return {'a': 1\n", "main.py:2:12: '{' was never closed"},
		{"broken-bun", "bun", "main.ts", "export default function (input) {\n  return {a: 1,,};\n}\n", "main.ts:2:16: "},
		{"broken-import-py", "python", "main.py", "import json\ntry:\n    import ujson\nexcept ImportError:\n    pass\nimport jsno\n\ndef handler(input, ctx):\n    return 1\n",
			`broken-import-py has an import that does not resolve: main.py:6:1: import "jsno" does not resolve (no module in the bundle or the Python runtime); did you mean "json"?`},
		{"broken-import-bun", "bun", "main.ts", "import {join} from \"node:path\";\nimport {x} from \"./helpres\";\nexport default () => join(x);\n",
			`broken-import-bun has an import that does not resolve: main.ts:2:17: import "./helpres" does not resolve (no file helpres`},
	} {
		dir := filepath.Join(parent, tc.name)
		writeFunction(t, dir, "name: "+tc.name+"\nruntime: "+tc.runtime+"\nentry: "+tc.entry+"\n", map[string]string{tc.entry: tc.code})
		if out, errOut, ok := h.cliIn(dir, "deploy", "."); ok || !strings.Contains(errOut, tc.want) {
			t.Errorf("deploy of %s: ok=%v stdout %q stderr %q; want it refused with %q", tc.name, ok, out, errOut, tc.want)
		}
	}
	if out, _ := h.must("ls"); strings.Contains(out, "broken") {
		t.Errorf("a refused deploy is listed:\n%s", out)
	}

	// Messages that say what to do.
	typo := filepath.Join(parent, "typo")
	writeFunction(t, typo, "name: typo\nruntime: python\nentry: main.py\ntimout: 5s\n", map[string]string{"main.py": "def handler(i, c):\n    return 1\n"})
	if _, errOut, ok := h.cliIn(typo, "deploy", "."); ok || !strings.Contains(errOut, `unknown key "timout" (did you mean "timeout"?); valid keys:`) {
		t.Errorf("mistyped sous.yaml key: ok=%v %q", ok, errOut)
	}
	if _, errOut, ok := h.cliIn(own, "deploy"); ok || !strings.Contains(errOut, "missing <dir>") {
		t.Errorf("deploy without its argument: ok=%v %q", ok, errOut)
	}

	// The URL the host prints leads somewhere.
	resp, err := http.Get(h.api + "/")
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		Routes []struct{ Method, Path string }
	}
	err = json.NewDecoder(resp.Body).Decode(&idx)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || len(idx.Routes) < 10 {
		t.Errorf("GET /: %d %v %+v", resp.StatusCode, err, idx)
	}

	// plugins ls asks the running host instead of launching plugins that find the data dir taken.
	out, errOut, ok := h.cli("plugins", "ls", "--config", "configs/sous.yaml")
	if !ok || strings.Contains(out, "NOT HEALTHY") || !strings.Contains(out, "messaging  codeq") || !strings.Contains(errOut, "asking the host running on") ||
		strings.Contains(out, "[INFO]") {
		t.Errorf("plugins ls while the host runs: ok=%v\n%s\n%s", ok, out, errOut)
	}
	// The banner names what the host talks to.
	if log := h.log(); !strings.Contains(log, "uses:        messaging codeq (embedded broker in this host): http_addr 127.0.0.1:") {
		t.Errorf("the banner does not name the broker addresses:\n%s", log)
	}
}

// checkSecondHost starts a second `sous dev` on h's data directory: it must stop at
// once, naming the host that has it, and leave h serving.
func checkSecondHost(t *testing.T, h *devHost) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.sous, append(devArgs(t, "configs/sous.yaml", h.dataDir), testSets(t)...)...)
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append(os.Environ(), h.env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.CombinedOutput()
	want := "another Sous host is using " + h.dataDir + " (pid " + strconv.Itoa(h.cmd.Process.Pid) + ", API on " + strings.TrimPrefix(h.api, "http://") + ")"
	if err == nil || !strings.Contains(string(out), want) || strings.Contains(string(out), "pebble") {
		t.Errorf("second sous dev on the same data dir: %v\n%s\nwant %q", err, out, want)
	}
	if out, _ := h.must("invoke", "hello-python"); !strings.Contains(out, `"runtime":"python"`) {
		t.Errorf("the first host after a second one was refused: %q", out)
	}
}

// writeFunction writes a function directory dir with its sous.yaml and files.
func writeFunction(t *testing.T, dir, manifest string, files map[string]string) {
	t.Helper()
	mustDo(t, os.MkdirAll(dir, 0o755))
	mustDo(t, os.WriteFile(filepath.Join(dir, "sous.yaml"), []byte(manifest), 0o644))
	for p, c := range files {
		mustDo(t, os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644))
	}
}

// TestDevWatch is `sous dev --watch <dir>`: the function is deployed at start and
// redeployed when its files change, one line per redeploy; an invocation in flight
// finishes on the version it started on; a syntax error is shown as file:line:column
// and the last good version keeps serving.
func TestDevWatch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "watched")
	code := func(tag string) string {
		return "import time\n\ndef handler(input, ctx):\n    time.sleep((input or {}).get(\"sleep\", 0))\n    return {\"tag\": \"" + tag + "\", \"version\": ctx.version}\n"
	}
	writeFunction(t, dir, "name: watched\nruntime: python\nentry: main.py\n", map[string]string{"main.py": code("one")})
	h := startDevWith(t, filepath.Join(t.TempDir(), ".sous"), "configs/sous.yaml", []string{"--examples", "", "--watch", dir})
	h.waitLog("watch: watched deployed version 1", 1)

	// An invocation in flight on version 1 while the code changes.
	id, _ := h.must("invoke", "watched", "--async", "--data", `{"sleep":3}`)
	id = strings.TrimSpace(id)
	deadline := time.Now().Add(30 * time.Second)
	for getRecord(t, h, id).Status != "running" {
		if time.Now().After(deadline) {
			t.Fatalf("invocation %s never ran", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mustDo(t, os.WriteFile(filepath.Join(dir, "main.py"), []byte(code("two")), 0o644))
	h.waitLog("watch: watched deployed version 2", 1)
	if out, _ := h.must("logs", id, "--follow"); !strings.Contains(out, `{"tag":"one","version":"1"}`) {
		t.Errorf("the invocation in flight did not finish on version 1:\n%s", out)
	}
	if out, _ := h.must("invoke", "watched"); out != `{"tag":"two","version":"2"}`+"\n" {
		t.Errorf("after the redeploy invoke printed %q", out)
	}

	// A save that breaks the code: one line with file:line:column, version 2 still serves.
	mustDo(t, os.WriteFile(filepath.Join(dir, "main.py"), []byte("def handler(input, ctx)\n    return 1\n"), 0o644))
	h.waitLog("watch: watched does not parse: main.py:1:24: ", 1)
	if out, _ := h.must("invoke", "watched"); out != `{"tag":"two","version":"2"}`+"\n" {
		t.Errorf("after a broken save invoke printed %q", out)
	}
	// A save that only touches the file: unchanged, no new version.
	mustDo(t, os.WriteFile(filepath.Join(dir, "main.py"), []byte(code("two")), 0o644))
	h.waitLog("watch: watched unchanged, still version 2", 1)
	if n := strings.Count(h.log(), "watch: watched"); n != 4 {
		t.Errorf("%d watch lines for 4 deploys:\n%s", n, h.log())
	}
}

// waitLog waits until the host's output holds s at least n times.
func (h *devHost) waitLog(s string, n int) {
	h.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for strings.Count(h.log(), s) < n {
		if time.Now().After(deadline) {
			h.t.Fatalf("host output never showed %q:\n%s", s, h.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
