package sandbox

import (
	"bufio"
	"fmt"
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
// It is checked and then run through one open descriptor.
func TestHelperOnlyFromTheSameBuild(t *testing.T) {
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The fake helper is this test binary (a script cannot be run through a descriptor
	// that closes at exec): its init below prints helperEnv's value for --build.
	fake := func(reply string) {
		t.Helper()
		b, err := os.ReadFile(self)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, HelperName)
		os.Remove(p)
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv(helperEnv, reply)
	}
	open := func(build string) string {
		p, f := openHelper(dir, build)
		if f != nil {
			f.Close()
		}
		return p
	}
	if p := open("abc"); p != "" {
		t.Fatalf("no helper: got %q", p)
	}
	fake("abc")
	if p := open("abc"); p != filepath.Join(dir, HelperName) {
		t.Fatalf("same build: got %q", p)
	}
	for build, reply := range map[string]string{"abd": "abc", "": "", "x": "fail"} {
		fake(reply)
		if p := open(build); p != "" {
			t.Fatalf("executor %q, helper replying %q: got %q", build, reply, p)
		}
	}
}

// helperEnv makes this test binary a fake helper: `--build` prints the value (exits 3
// for "fail").
const helperEnv = "SOUS_TEST_FAKE_HELPER"

func init() {
	v, ok := os.LookupEnv(helperEnv)
	if !ok || len(os.Args) != 2 || os.Args[1] != "--build" {
		return
	}
	if v == "fail" {
		os.Exit(3)
	}
	fmt.Println(v)
	os.Exit(0)
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

// A helper overwritten in place by another build's makes its first start fail with the
// init's refusal; Start then gives up the helper and starts the init from this binary.
func TestStartLeavesAHelperOfAnotherBuild(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	fakePath := filepath.Join(t.TempDir(), HelperName)
	if err := os.WriteFile(fakePath, b, 0o755); err != nil { // a copy: an unstamped build
		t.Fatal(err)
	}
	f, err := os.Open(fakePath)
	if err != nil {
		t.Fatal(err)
	}
	helper.once.Do(func() {})
	helper.path, helper.f, Build = fakePath, f, "stamp-of-this-executor"
	t.Cleanup(func() { f.Close(); helper.path, helper.f, Build = "", nil, ""; helper.off.Store(false) })

	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	_, err = Start(&Spec{}, Stdio{Stdin: devnull, Stdout: devnull, Stderr: devnull, Events: devnull, Requests: devnull})
	// This test binary carries no stamp either, so the second init refuses too, naming itself.
	if err == nil || !strings.Contains(err.Error(), "the init "+self+" "+otherBuild) {
		t.Fatalf("want the retry's init to be this binary, got %v", err)
	}
	if InitBinary() != selfExe {
		t.Fatalf("the helper is still in use: %s", InitBinary())
	}
}
