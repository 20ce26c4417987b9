package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/testenv"
)

// readmeBlock returns the first ```sh block of README.md after the line that
// starts with heading.
func readmeBlock(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n"+heading)
	if i < 0 {
		t.Fatalf("README.md has no line starting %q", heading)
	}
	m := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(s[i:])
	if m == nil {
		t.Fatalf("README.md has no sh block after %q", heading)
	}
	return m[1]
}

// TestReadmeRedisSplitRoles pastes README "Topologies → Redis, split roles" into bash
// as written, from a directory laid out like the repository root (bin/, configs/,
// examples/), with 6379 and 127.0.0.1:8080 swapped for free ports. SOUS_* variables
// (which the block's config file yields to) point the hosts at those ports and at the
// test's runtimes. The block's own redis-server is the one it uses.
func TestReadmeRedisSplitRoles(t *testing.T) {
	block := readmeBlock(t, "**Redis, split roles.**")
	for _, want := range []string{"6379", "127.0.0.1:8080", "kill %1 %2"} {
		if !strings.Contains(block, want) {
			t.Fatalf("the split-roles block no longer contains %q:\n%s", want, block)
		}
	}
	redisPort, api := strconv.Itoa(testenv.FreePort(t)), freeAddr(t)
	script := strings.NewReplacer("6379", redisPort, "127.0.0.1:8080", api).Replace(block)

	redisURL := "redis://127.0.0.1:" + redisPort + "/0"
	out, errb, work, report := runReadmeBlock(t, script, redisPort, "SOUS_HTTP__ADDR="+api, "SOUS_WORKER__CONTROL_URL=http://"+api,
		"SOUS_PLUGINS__MESSAGING__REDIS__URL="+redisURL, "SOUS_PLUGINS__EVENTS__REDISSTREAM__URL="+redisURL)
	for _, want := range []string{"PONG\n", "deployed hello-python version 1", `{"hello":"split","runtime":"python","env":"dev"}` + "\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q\n%s", want, report)
		}
	}
	for _, want := range []string{"uses messaging redis: url redis://127.0.0.1:" + redisPort + " db 0", "signed with the HS256 key from auth.hs256_key (env SOUS_AUTH__HS256_KEY)"} {
		if !strings.Contains(errb, want) {
			t.Errorf("stderr lacks %q\n%s", want, report)
		}
	}
	if strings.Contains(errb, "connection refused") {
		t.Errorf("a command failed on a host still starting\n%s", report)
	}
	// kill %1 %2 stopped both roles and everything they started.
	if left := processesIn(work); len(left) > 0 {
		t.Errorf("processes left running after the block: %v\n%s", left, report)
	}
}

// runReadmeBlock runs script through bash from a directory laid out like the repository
// root (bin/, configs/, examples/), with the test's runtimes and env, and shuts down the
// block's redis-server (on redisPort, user sous) at the end. It fails the test when bash
// fails; report describes the run for later failures.
func runReadmeBlock(t *testing.T, script, redisPort string, env ...string) (stdout, stderr, work, report string) {
	t.Helper()
	work = t.TempDir()
	pluginDir := filepath.Dir(testenv.Plugin(t, "messaging-redis"))
	testenv.Plugin(t, "events-redisstream")
	testenv.Plugin(t, "executor-bun")
	testenv.Plugin(t, "executor-python")
	mustDo(t, os.MkdirAll(filepath.Join(work, "bin"), 0o755))
	mustDo(t, os.Symlink(testenv.Sous(t), filepath.Join(work, "bin", "sous")))
	mustDo(t, os.Symlink(pluginDir, filepath.Join(work, "bin", "plugins")))
	for _, d := range []string{"configs", "examples"} {
		mustDo(t, os.Symlink(filepath.Join(testenv.RepoRoot(), d), filepath.Join(work, d)))
	}
	t.Cleanup(func() {
		_ = exec.Command("redis-cli", "-p", redisPort, "--user", "sous", "--pass", "change-me", "--no-auth-warning", "shutdown", "nosave").Run()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = work
	cmd.Env = append(append(os.Environ(), "SOUS_API=", "SOUS_TOKEN=", "SOUS_AUTH__HS256_KEY=", "XDG_STATE_HOME="+t.TempDir(),
		"SOUS_PLUGINS__EXECUTOR__BUN__BUN="+testenv.Bun(t), "SOUS_PLUGINS__EXECUTOR__PYTHON__PYTHON="+testenv.Python(t)), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	report = fmt.Sprintf("bash: %v\n--- script ---\n%s--- stdout ---\n%s--- stderr ---\n%s", err, script, out.String(), errb.String())
	if err != nil {
		t.Fatal(report)
	}
	return out.String(), errb.String(), work, report
}

// processesIn lists processes (but redis-server) whose working directory is dir.
func processesIn(dir string) []string {
	var out []string
	for _, pid := range testenv.PIDs() {
		cwd, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "cwd"))
		if _, state, _, ok := testenv.ProcStat(pid); err != nil || !ok || state == "Z" || cwd != dir {
			continue
		}
		if c := testenv.Cmdline(pid); !strings.Contains(c, "redis-server") {
			out = append(out, fmt.Sprintf("%d %s", pid, c))
		}
	}
	return out
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
