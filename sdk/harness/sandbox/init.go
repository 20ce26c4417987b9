package sandbox

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// initEnv marks a process started by Start as the jail's init; its value is the
// starter's initTag.
const initEnv = "SOUS_SANDBOX_INIT"

// Descriptors the init is started with: 0-2 and the envelope/request channels pass
// through to the runtime; ctlFD (the control socket) stays with the init.
const (
	passFDs = 5 // 0..4: stdin, stdout, stderr, fd 3 (envelopes), fd 4 (requests)
	ctlFD   = 5
)

// Control messages between supervisor and init on the control socket.
const (
	msgClean = 'c' // supervisor: the run is over; kill stray processes, empty TMPDIR
	msgDone  = 'k' // init: cleaned
)

func init() {
	if v, ok := os.LookupEnv(execEnv); ok {
		os.Exit(execStage(v))
	}
	tag, ok := os.LookupEnv(initEnv)
	if !ok {
		return
	}
	// One P: the init only waits (wait4, the control socket) and cleans between runs;
	// more Ps only add scheduler hand-offs and spinning threads to every wake-up.
	runtime.GOMAXPROCS(1)
	runtime.LockOSThread() // no_new_privs and the fork of the runtime happen on this thread
	os.Exit(initMain(tag))
}

// initMain is the jail's PID 1: it sets the jail up, starts the runtime, serves clean
// requests and exits with the runtime's status (128+signal when it was killed),
// taking every other process of the namespace with it. tag is the starter's Build,
// which must be this binary's.
func initMain(tag string) int {
	ctl := os.NewFile(ctlFD, "control")
	rd := bufio.NewReader(ctl)
	fail := func(err error) int {
		fmt.Fprintf(ctl, "error: %v\n", err)
		return 125
	}
	if tag != initTag() {
		exe, _ := os.Executable()
		return fail(fmt.Errorf("the init %s %s %q where the executor's is %q: install %s from the executor's build", exe, otherBuild, initTag(), tag, HelperName))
	}
	line, err := rd.ReadBytes('\n')
	if err != nil {
		return fail(fmt.Errorf("read spec: %w", err))
	}
	var s Spec
	if err := json.Unmarshal(line, &s); err != nil {
		return fail(fmt.Errorf("decode spec: %w", err))
	}
	for _, cg := range s.Cgroups {
		if err := os.WriteFile(cg+"/cgroup.procs", []byte("0"), 0); err != nil {
			return fail(fmt.Errorf("join cgroup %s: %w", cg, err))
		}
	}
	if s.Track != "" { // best effort: without it the idle probe finds no list and asks for every clean
		_ = os.WriteFile(s.Track+"/cgroup.procs", []byte("0"), 0)
	}
	if err := buildRoot(&s); err != nil {
		return fail(err)
	}
	if s.Network != NetworkHost {
		if err := loopbackUp(); err != nil {
			return fail(err)
		}
	}
	_ = unix.Sethostname([]byte("sous"))
	if s.WaitGo {
		if l, err := rd.ReadString('\n'); err != nil || l != "go\n" {
			return fail(fmt.Errorf("waiting for network setup: %q %v", l, err))
		}
	}
	empty := tmpSize() // before the runtime can write to TMPDIR
	pid, err := startRuntime(&s)
	if err != nil {
		return fail(err)
	}
	if _, err := fmt.Fprintf(ctl, "ok %d\n", empty); err != nil {
		return 125
	}
	go serveControl(rd, ctl, pid)
	return reap(pid)
}

// startRuntime forks the runtime into a new user namespace as InsideUID, mapped to
// the unprivileged s.UID outside, with no_new_privs and only fds 0-4. The child
// first runs this binary again as the exec stage (execstage.go), which sets the
// rlimits and the seccomp filter on itself and then executes the runtime: the filter
// refuses new namespaces, so it can only be set after the clone that makes the user
// namespace, and Go sets nothing between a fork and an exec.
func startRuntime(s *Spec) (int, error) {
	if auditArch == 0 {
		return 0, errNoFilter
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return 0, fmt.Errorf("no_new_privs: %w", err)
	}
	files := make([]uintptr, passFDs)
	for i := range files {
		files[i] = uintptr(i)
	}
	argv := append([]string{"sous-sandbox-exec"}, s.Argv...)
	// First: the stage reads the first entry of a name, so a function's own env cannot
	// stand in for it (the stage drops every entry of the name before the exec).
	env := append([]string{execEnv + "=" + encodeRlimits(s.Rlimits)}, s.Env...)
	pid, err := syscall.ForkExec("/proc/self/exe", argv, &syscall.ProcAttr{
		Dir: s.Dir, Env: env, Files: files,
		Sys: &syscall.SysProcAttr{
			Cloneflags:                 syscall.CLONE_NEWUSER,
			UidMappings:                []syscall.SysProcIDMap{{ContainerID: InsideUID, HostID: s.UID, Size: 1}},
			GidMappings:                []syscall.SysProcIDMap{{ContainerID: InsideGID, HostID: s.GID, Size: 1}},
			GidMappingsEnableSetgroups: true,
			Credential:                 &syscall.Credential{Uid: InsideUID, Gid: InsideGID, Groups: []uint32{}},
			Pdeathsig:                  syscall.SIGKILL,
		},
	})
	if err != nil {
		return 0, fmt.Errorf("start %s as uid %d: %w", s.Argv[0], s.UID, err)
	}
	return pid, nil
}

// reap waits for every child (orphans are re-parented to PID 1) until the runtime
// exits, and returns the status the init exits with.
func reap(runtimePid int) int {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 125
		}
		if pid != runtimePid {
			continue
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
}

// serveControl answers clean requests until the supervisor closes the socket.
func serveControl(rd *bufio.Reader, ctl *os.File, runtimePid int) {
	for {
		b, err := rd.ReadByte()
		if err != nil {
			return
		}
		if b != msgClean {
			continue
		}
		killStrays(runtimePid)
		emptyDir(TmpDir)
		if _, err := ctl.Write([]byte{msgDone}); err != nil {
			return
		}
	}
}
