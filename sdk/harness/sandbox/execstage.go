package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// execEnv marks the exec stage: the runtime's process, already in its user namespace
// as InsideUID, before it executes the runtime. Its value is the rlimits to set (JSON).
const execEnv = "SOUS_SANDBOX_EXEC"

// execStage sets the rlimits and the seccomp filter on this process and executes the
// runtime (os.Args[1:]) with the environment less execEnv. It returns only on failure:
// the exit status, after a line on stderr (the function's log). Everything the exec
// needs is allocated before the rlimits: under an address-space limit the Go runtime
// could not grow its heap afterwards.
func execStage(limits string) int {
	runtime.LockOSThread() // the filter is the thread's; the exec keeps that thread's
	debug.SetGCPercent(-1) // no collection, and so no allocation of its own, from here on
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "sandbox: %v\n", err)
		return 126
	}
	rl, err := decodeRlimits(limits)
	if err != nil {
		return fail(err)
	}
	if len(os.Args) < 2 {
		return fail(fmt.Errorf("exec stage: no runtime to start"))
	}
	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, execEnv+"=") {
			env = append(env, kv)
		}
	}
	path, err1 := syscall.BytePtrFromString(os.Args[1])
	argv, err2 := syscall.SlicePtrFromStrings(os.Args[1:])
	envv, err3 := syscall.SlicePtrFromStrings(env)
	if err := errors.Join(err1, err2, err3); err != nil {
		return fail(fmt.Errorf("exec %s: %w", os.Args[1], err))
	}
	prog := filter()
	for _, r := range rl {
		if err := unix.Setrlimit(r.Resource, &unix.Rlimit{Cur: r.Max, Max: r.Max}); err != nil {
			return fail(fmt.Errorf("rlimit %d: %w", r.Resource, err))
		}
	}
	if err := installFilter(prog); err != nil {
		return fail(err)
	}
	_, _, e := syscall.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(path)), uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envv[0])))
	return fail(fmt.Errorf("exec %s: %w", os.Args[1], e))
}

// encodeRlimits and decodeRlimits carry Spec.Rlimits to the exec stage in execEnv, as
// JSON like the rest of the Spec.
func encodeRlimits(rl []Rlimit) string {
	b, _ := json.Marshal(rl) // ints only: cannot fail
	return string(b)
}

func decodeRlimits(s string) ([]Rlimit, error) {
	if s == "" {
		return nil, nil
	}
	var out []Rlimit
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("exec stage: rlimits %q: %w", s, err)
	}
	return out, nil
}
