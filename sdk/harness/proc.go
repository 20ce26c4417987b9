package harness

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sous-run/sous/internal/rawio"
	"github.com/sous-run/sous/sdk/harness/sandbox"
)

// Proc is one harness process serving one function version of one tenant, one
// invocation at a time.
type Proc struct {
	fn   *Function
	key  string // pool key: tenant, function, version, digest
	cmd  *exec.Cmd
	pid  int    // host pid of the harness, or of the jail's init
	home string // unsandboxed: the per-process HOME on the host
	req  *os.File
	reqW io.Writer // req, through rawio when it can be
	out  *outputPipe
	errp *outputPipe
	// ev is fd 3, read by the invocation running on the process (read deadline =
	// the invocation's deadline); evBuf buffers it across invocations.
	ev    *os.File
	evBuf *bufio.Reader
	// jail and cg are set when the process runs in the sandbox (cg: when cgroups
	// enforce the limits).
	jail *sandbox.Jail
	cg   *sandbox.Cgroup
	// stopped says why the supervisor killed the process mid-run (nil: it did not).
	stopped atomic.Pointer[stopReason]
	// exited is closed once the process has been reaped; state is then set.
	exited chan struct{}
	state  *os.ProcessState
	limits Limits
	mem    MemoryMode

	// nextTmp holds a temp dir made ahead for the next invocation (off the hot path).
	nextTmp chan string

	lastUsed time.Time // guarded by the pool
	taken    time.Time // when the pool last handed the process to a run; guarded by the pool
	broken   atomic.Bool
}

// procSpec is what starting a harness process needs.
type procSpec struct {
	argv    []string
	fn      *Function
	key     string
	limits  Limits
	mem     MemoryMode
	homeDir string  // parent of the per-process HOME (unsandboxed)
	jail    *jailer // nil: no sandbox
}

// startProc launches a harness process (in its jail when ps.jail is set) in its own
// process group with stdin on /dev/null, fd 3 as the envelope channel, fd 4 for
// requests and fd 1/2 drained into log events.
func startProc(ps procSpec) (*Proc, error) {
	var parent, child []*os.File // parent ends kept, child ends closed after start
	pipe := func(childReads bool) (*os.File, error) {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		if childReads {
			child, parent = append(child, r), append(parent, w)
			return w, nil
		}
		child, parent = append(child, w), append(parent, r)
		return r, nil
	}
	p := &Proc{fn: ps.fn, key: ps.key, nextTmp: make(chan string, 1), exited: make(chan struct{}),
		limits: ps.limits, mem: ps.mem, lastUsed: time.Now()}
	fail := func(err error) (*Proc, error) {
		for _, f := range append(parent, child...) {
			f.Close()
		}
		p.cleanup()
		if p.cg != nil {
			p.cg.Remove()
		}
		return nil, err
	}
	// stdout, stderr and fd 3 (the child writes), then fd 4 (the child reads).
	var ends [4]*os.File
	for i, name := range []string{"stdout", "stderr", "fd 3", "fd 4"} {
		f, err := pipe(i == 3)
		if err != nil {
			return fail(fmt.Errorf("%s pipe: %w", name, err))
		}
		ends[i] = f
	}
	for _, f := range ends[2:] { // fd 3 and fd 4 carry whole inputs and outputs
		growPipe(f)
	}
	if err := p.launch(ps, child); err != nil {
		return fail(err)
	}
	for _, f := range child {
		f.Close()
	}
	p.pid = p.cmd.Process.Pid
	p.out, p.errp, p.ev, p.req = newOutputPipe(ends[0], "stdout"), newOutputPipe(ends[1], "stderr"), ends[2], ends[3]
	p.reqW = rawOr(p.req)
	p.evBuf = bufio.NewReaderSize(rawOr(p.ev), 64<<10)
	if ps.jail == nil && ps.mem == MemoryAddressSpace && ps.limits.MemoryMB > 0 {
		lim := uint64(ps.limits.MemoryMB) << 20
		if err := unix.Prlimit(p.pid, unix.RLIMIT_AS, &unix.Rlimit{Cur: lim, Max: lim}, nil); err != nil {
			p.kill()
			return nil, fmt.Errorf("set memory limit on harness %d: %w", p.pid, err)
		}
	}
	go p.out.loop()
	go p.errp.loop()
	go func() {
		_ = p.cmd.Wait()
		p.state = p.cmd.ProcessState
		close(p.exited)
		p.cleanup()
		select {
		case d := <-p.nextTmp:
			os.RemoveAll(d)
		default:
		}
	}()
	return p, nil
}

// launch starts the process: in a jail, or directly with a HOME of its own.
// child are the child's ends of stdout, stderr, fd 3 and fd 4.
func (p *Proc) launch(ps procSpec, child []*os.File) error {
	if ps.jail != nil {
		if ps.jail.cgroups != nil {
			cg, err := ps.jail.cgroups.New(sandbox.Limits{MemoryMB: ps.limits.MemoryMB, MaxPids: ps.jail.maxPids, CPUs: ps.jail.maxCPUs})
			if err != nil {
				return err
			}
			p.cg = cg
		}
		devnull, err := os.Open(os.DevNull)
		if err != nil {
			return err
		}
		defer devnull.Close()
		j, err := sandbox.Start(ps.jail.spec(ps.fn, ps.limits, p.cg),
			sandbox.Stdio{Stdin: devnull, Stdout: child[0], Stderr: child[1], Events: child[2], Requests: child[3]})
		if err != nil {
			return err
		}
		p.jail, p.cmd = j, j.Cmd
		return nil
	}
	home, err := os.MkdirTemp(ps.homeDir, "proc-")
	if err != nil {
		return fmt.Errorf("harness home: %w", err)
	}
	p.home = home
	tmp := filepath.Join(home, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return fmt.Errorf("harness tmp: %w", err)
	}
	cmd := exec.Command(ps.argv[0], ps.argv[1:]...)
	cmd.Dir = ps.fn.CodeDir
	cmd.Env = functionEnv(ps.fn.Vars, home, tmp)
	cmd.Stdout, cmd.Stderr = child[0], child[1] // stdin: /dev/null
	cmd.ExtraFiles = []*os.File{child[2], child[3]}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", ps.argv[0], err)
	}
	p.cmd = cmd
	return nil
}

// cleanup releases what the process held on the host once it is gone.
func (p *Proc) cleanup() {
	if p.home != "" {
		os.RemoveAll(p.home)
	}
	if p.jail != nil {
		p.jail.Close()
	}
}

// stopReason is why the supervisor ended a run by killing the process.
type stopReason struct {
	kind    string // envelope error kind; "" for a cancelled run
	message string
}

// stop records why the run is being ended and kills the process; the first reason wins.
func (p *Proc) stop(r *stopReason) {
	p.stopped.CompareAndSwap(nil, r)
	p.kill()
}

// rawOr is f read and written with raw system calls (rawio: they leave the runtime's
// monitor thread asleep at each request and envelope), or f itself when it cannot be.
func rawOr(f *os.File) io.ReadWriter {
	if fd, err := rawio.New(f); err == nil {
		return fd
	}
	return f
}

// kill ends the whole process group. Safe to call more than once.
func (p *Proc) kill() {
	p.broken.Store(true)
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	_ = p.req.Close()
	_ = p.ev.SetReadDeadline(time.Now()) // wake a run blocked on fd 3
}

// retire kills a process that leaves the pool for good and closes fd 3 once it has
// been reaped. Only for a process no invocation is using.
func (p *Proc) retire() {
	p.kill()
	go func() {
		<-p.exited
		p.ev.Close()
		if p.cg != nil {
			p.cg.Remove() // only now: a run reads the cgroup's counters after the process died
		}
	}()
}

// alive reports whether the process is still running and reusable.
func (p *Proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return !p.broken.Load()
	}
}

// exitDescription says how the process ended, for crash messages.
func (p *Proc) exitDescription(wait time.Duration) string {
	select {
	case <-p.exited:
	case <-time.After(wait):
		return "harness process closed its event channel but is still running"
	}
	sig, code := sandbox.Signal(0), p.state.ExitCode()
	if p.jail != nil {
		sig, code = sandbox.Describe(p.state)
	} else if ws, ok := p.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		sig = ws.Signal()
	}
	if sig != 0 {
		return fmt.Sprintf("harness process killed by signal %s", unix.SignalName(sig))
	}
	return fmt.Sprintf("function exited the harness process with code %d mid-run (process.exit / os._exit)", code)
}

// takeTmp returns a fresh, empty temp dir under parent for one invocation.
func (p *Proc) takeTmp(parent string) (string, error) {
	if p.jail != nil {
		return sandbox.TmpDir, nil // emptied by the jail's init after every run
	}
	select {
	case d := <-p.nextTmp:
		return d, nil
	default:
		return os.MkdirTemp(parent, "inv-")
	}
}

// dropTmp hands an invocation's temp dir on to the next invocation when the function
// left it as it found it (an empty 0700 directory, not replaced by a link): an empty
// directory is as fresh as a new one, and reusing it spares a mkdir and an rmdir per
// invocation (the largest cost of a warm run). Otherwise the dir is removed and the
// next one made in the background.
func (p *Proc) dropTmp(parent, dir string) {
	if p.jail != nil {
		return
	}
	if p.alive() && emptyPrivateDir(dir) {
		select {
		case p.nextTmp <- dir:
			return
		default:
		}
	}
	go func() {
		os.RemoveAll(dir)
		if !p.alive() {
			return
		}
		d, err := os.MkdirTemp(parent, "inv-")
		if err != nil {
			return
		}
		select {
		case p.nextTmp <- d:
		default:
			os.RemoveAll(d)
		}
	}()
}

// emptyPrivateDir reports whether path is a directory (not a link) with mode 0700
// and no entries.
func emptyPrivateDir(path string) bool {
	fi, err := os.Lstat(path)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	return errors.Is(err, io.EOF)
}

// growPipe asks for envelopePipeSize on f's pipe, best effort (not through Fd,
// which would make f blocking and lose its deadlines).
func growPipe(f *os.File) {
	if c, err := f.SyscallConn(); err == nil {
		_ = c.Control(func(fd uintptr) { _, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, envelopePipeSize) })
	}
}

// envelopePipeSize is asked of the request and envelope pipes (Linux's default is 64
// KiB): a 1 MiB input or output then crosses in 4 writes, not 16, each a wake-up of
// the reader. Pipe buffers are charged to the plugin's user: an unprivileged one has
// 64 MiB of them by default (fs.pipe-user-pages-soft), past which new pipes get 8 KiB.
const envelopePipeSize = 256 << 10
