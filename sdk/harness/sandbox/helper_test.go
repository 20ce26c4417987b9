package sandbox

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The helper is used only when it reports the executor's own stamp: a missing one, one
// from another build, one that fails, and any helper for an unstamped executor are not.
func TestHelperOnlyFromTheSameBuild(t *testing.T) {
	dir := t.TempDir()
	fake := func(script string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, HelperName), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if p := helperIn(dir, "abc"); p != "" {
		t.Fatalf("no helper: got %q", p)
	}
	fake(`[ "$1" = --build ] && echo abc`)
	if p := helperIn(dir, "abc"); p != filepath.Join(dir, HelperName) {
		t.Fatalf("same build: got %q", p)
	}
	for build, script := range map[string]string{
		"abd": `[ "$1" = --build ] && echo abc`, // another build
		"":    `[ "$1" = --build ] && echo`,     // an unstamped executor, an unstamped helper
	} {
		fake(script)
		if p := helperIn(dir, build); p != "" {
			t.Fatalf("executor %q, helper %q: got %q", build, script, p)
		}
	}
	fake(`echo abc; exit 3`)
	if p := helperIn(dir, "abc"); p != "" {
		t.Fatalf("a failing helper: got %q", p)
	}
}

// An init started for another build refuses to set a jail up and says which builds met.
func TestInitRefusesAnotherBuild(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.SetNonblock(fds[0], true); err != nil { // for the read deadline
		t.Fatal(err)
	}
	ctl, child := os.NewFile(uintptr(fds[0]), "ctl"), os.NewFile(uintptr(fds[1]), "child")
	defer ctl.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = []string{initEnv + "=another"}
	cmd.ExtraFiles = []*os.File{devnull, devnull, child} // fds 3, 4 and the control socket (5)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	child.Close()
	_ = ctl.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(ctl).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill() // it waits for a spec: it did not refuse
	}
	_ = cmd.Wait()
	if err != nil || !strings.Contains(line, `sandbox build "unstamped" where the executor's is "another"`) {
		t.Fatalf("want the init to refuse another build, got %q (%v)", line, err)
	}
	if cmd.ProcessState.ExitCode() != 125 {
		t.Fatalf("exit %d, want 125", cmd.ProcessState.ExitCode())
	}
}
