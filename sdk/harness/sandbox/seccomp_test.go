package sandbox

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// probeEnv makes this test binary a probe process: it tries each call of the kernel
// surface (with the filter when the value is "filter"), prints what each returned as
// JSON and exits.
const probeEnv = "SOUS_SECCOMP_PROBE"

// probe is what a hostile function would try, and two calls it needs: a plain fork
// (threads, subprocesses) and an ordinary file call.
func probe() map[string]string {
	out := map[string]string{}
	res := func(name string, e syscall.Errno) {
		if e == 0 {
			out[name] = "ok"
		} else {
			out[name] = e.Error()
		}
	}
	var params [120]byte
	r, _, e := syscall.RawSyscall(unix.SYS_IO_URING_SETUP, 1, uintptr(unsafe.Pointer(&params[0])), 0)
	if e == 0 {
		syscall.Close(int(r))
	}
	res("io_uring_setup", e)
	session := int32(unix.KEY_SPEC_SESSION_KEYRING)
	_, _, e = syscall.RawSyscall(unix.SYS_KEYCTL, unix.KEYCTL_GET_KEYRING_ID, uintptr(session), 0)
	res("keyctl", e)
	_, _, e = syscall.RawSyscall(unix.SYS_CLONE3, 0, 0, 0)
	res("clone3", e)
	// A clone that asks for a user namespace, made by Go's own fork (clone, not clone3).
	userns := exec.Command("/bin/true")
	userns.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER}
	res("clone(CLONE_NEWUSER)", errnoOf(userns.Run()))
	res("unshare(CLONE_NEWUSER)", errnoOf(unix.Unshare(unix.CLONE_NEWUSER)))
	res("unshare(CLONE_NEWNS)", errnoOf(unix.Unshare(unix.CLONE_NEWNS)))
	cmd := exec.Command("/bin/true")
	res("fork and exec", errnoOf(cmd.Run()))
	_, err := os.ReadFile("/proc/self/status")
	res("read a file", errnoOf(err))
	return out
}

func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return syscall.EIO
}

func runProbe(t *testing.T, mode string) map[string]string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFilterRefusesTheKernelSurface$")
	cmd.Env = append(os.Environ(), probeEnv+"="+mode)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("probe (%s): %v", mode, err)
	}
	var got map[string]string
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("probe (%s): %q: %v", mode, b, err)
	}
	return got
}

// Each refused call is first seen to work here without the filter (where the machine
// allows it), then refused under it, while a fork, an exec and a file read still work.
func TestFilterRefusesTheKernelSurface(t *testing.T) {
	if mode := os.Getenv(probeEnv); mode != "" {
		runtime.LockOSThread()
		if mode == "filter" {
			if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
				os.Exit(3)
			}
			if err := installFilter(filter()); err != nil {
				os.Stderr.WriteString(err.Error() + "\n")
				os.Exit(4)
			}
		}
		b, _ := json.Marshal(probe())
		os.Stdout.Write(b)
		os.Exit(0)
	}
	before, after := runProbe(t, "none"), runProbe(t, "filter")
	t.Logf("without the filter: %v", before)
	want := map[string]string{
		"io_uring_setup":         "operation not permitted",
		"keyctl":                 "operation not permitted",
		"clone3":                 "function not implemented",
		"clone(CLONE_NEWUSER)":   "operation not permitted",
		"unshare(CLONE_NEWUSER)": "operation not permitted",
		"unshare(CLONE_NEWNS)":   "operation not permitted",
		"fork and exec":          "ok",
		"read a file":            "ok",
	}
	for call, w := range want {
		if after[call] != w {
			t.Errorf("%s under the filter: %s, want %s", call, after[call], w)
		}
	}
	for _, call := range []string{"io_uring_setup", "keyctl", "clone(CLONE_NEWUSER)"} {
		if before[call] != "ok" {
			t.Logf("%s is refused here even without the filter (%s): that check shows nothing on this machine", call, before[call])
		}
	}
}
