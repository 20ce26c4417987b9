package sandbox

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// setupTimeout bounds how long the init may take to build the jail.
const setupTimeout = 10 * time.Second

// Jail is one running jail: its init (PID 1 of the namespaces), the control socket
// and, for outbound networking, the user-mode network stack.
type Jail struct {
	Cmd   *exec.Cmd
	ctl   *os.File
	rd    *bufio.Reader
	slirp *exec.Cmd
	// cleaning: a clean was asked for and its answer not yet read.
	cleaning bool
	// idle says when there is nothing to clean (nil: always ask the init).
	idle *idleProbe
}

// Stdio are the descriptors handed through the init to the runtime.
type Stdio struct {
	Stdin, Stdout, Stderr *os.File
	Events, Requests      *os.File // fd 3 and fd 4 of the runtime
}

// Start starts the init for s in new mount, PID, IPC, UTS and (unless the network
// is host) network namespaces, and returns once the runtime is running in the jail.
// The init is in its own process group and dies with the caller's thread.
func Start(s *Spec, io Stdio) (*Jail, error) {
	bin := initExec()
	j, err := start(s, io, bin)
	if err != nil && bin != selfExe && strings.Contains(err.Error(), otherBuild) {
		// The helper was overwritten in place by another build's: this executable
		// runs the inits from now on.
		helper.off.Store(true)
		return start(s, io, selfExe)
	}
	return j, err
}

// start is Start with bin as the init.
func start(s *Spec, io Stdio, bin string) (*Jail, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ctl, child := os.NewFile(uintptr(fds[0]), "sandbox-control"), os.NewFile(uintptr(fds[1]), "sandbox-control-child")
	defer child.Close()
	flags := uintptr(syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS)
	if s.Network != NetworkHost {
		flags |= syscall.CLONE_NEWNET
	}
	cmd := exec.Command(bin)
	cmd.Args = []string{"sous-sandbox-init"}
	cmd.Env = []string{initEnv + "=" + initTag()}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = io.Stdin, io.Stdout, io.Stderr
	cmd.ExtraFiles = []*os.File{io.Events, io.Requests, child}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		ctl.Close()
		return nil, fmt.Errorf("start sandbox init: %w", err)
	}
	j := &Jail{Cmd: cmd, ctl: ctl, rd: bufio.NewReader(ctl)}
	if err := j.setup(s); err != nil {
		j.Kill()
		_ = cmd.Wait()
		j.Close()
		return nil, err
	}
	return j, nil
}

// setup sends the spec, wires the network and waits for the init's "ok".
func (j *Jail) setup(s *Spec) error {
	_ = j.ctl.SetDeadline(time.Now().Add(setupTimeout))
	defer j.ctl.SetDeadline(time.Time{})
	s.WaitGo = s.Network == NetworkOutbound
	b, _ := json.Marshal(s)
	if _, err := j.ctl.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("sandbox init: send spec: %w", err)
	}
	if s.WaitGo {
		slirp, err := startSlirp(j.Cmd.Process.Pid)
		if err != nil {
			return err
		}
		j.slirp = slirp
		if _, err := j.ctl.Write([]byte("go\n")); err != nil {
			return fmt.Errorf("sandbox init: %w", err)
		}
	}
	line, err := j.rd.ReadString('\n')
	if err != nil {
		return fmt.Errorf("sandbox init exited during setup (%v)", err)
	}
	ok, empty := parseOK(line)
	if !ok {
		return fmt.Errorf("sandbox: %s", strings.TrimSpace(strings.TrimPrefix(line, "error: ")))
	}
	j.idle = newIdleProbe(j.Cmd.Process.Pid, s.Cgroups, s.Track, empty)
	return nil
}

// StartClean asks the init to kill what the last run left running and empty TMPDIR.
// It does not wait: the clean runs while the process idles, and AwaitClean (before
// the next run) waits for it. Calls are sequential: one owner of the process at a time.
// When the probe sees nothing to clean, the init is not asked at all.
func (j *Jail) StartClean() error {
	if j.idle != nil && j.idle.clean() {
		return nil
	}
	_ = j.ctl.SetWriteDeadline(time.Now().Add(setupTimeout))
	if _, err := j.ctl.Write([]byte{msgClean}); err != nil {
		return fmt.Errorf("sandbox clean: %w", err)
	}
	j.cleaning = true
	return nil
}

// AwaitClean waits for the clean StartClean asked for, if any.
func (j *Jail) AwaitClean() error {
	if !j.cleaning {
		return nil
	}
	j.cleaning = false
	_ = j.ctl.SetReadDeadline(time.Now().Add(setupTimeout))
	b, err := j.rd.ReadByte()
	if err != nil || b != msgDone {
		return fmt.Errorf("sandbox clean: no answer from the init (%v)", err)
	}
	return nil
}

// Kill ends the jail: SIGKILL to the init tears the PID namespace down, and with it
// every process the function started.
func (j *Jail) Kill() {
	_ = syscall.Kill(-j.Cmd.Process.Pid, syscall.SIGKILL)
}

// Close releases the control socket and stops the network stack; after the init
// has been reaped.
func (j *Jail) Close() {
	j.ctl.Close()
	if j.idle != nil {
		j.idle.close()
	}
	if j.slirp != nil {
		_ = j.slirp.Process.Kill()
		_ = j.slirp.Wait()
	}
}

// Signal is a signal number (0: none).
type Signal = syscall.Signal

// Describe turns the init's exit status into words: the init exits with the
// runtime's code, or 128+signal when the runtime was killed.
func Describe(st *os.ProcessState) (signal Signal, code int) {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal(), -1
	}
	c := st.ExitCode()
	if c > 128 && c < 128+65 {
		return syscall.Signal(c - 128), -1
	}
	return 0, c
}
