package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/sous-run/sous/internal/rawio"
)

// Cgroups is where this process makes one cgroup per jail: a cgroup v2 subtree with
// the memory and pids controllers, or the cgroup v1 memory and pids hierarchies.
type Cgroups struct {
	V2   bool
	CPU  bool     // the cpu controller is there too (max_cpus is enforced)
	base []string // v2: one dir; v1: the memory dir, the pids dir, then the cpu dir (optional)
	// track (v1 only) is a dir in the cgroup v2 hierarchy of a hybrid host, without
	// controllers: each jail also joins a cgroup there, only to have its processes
	// listed by a file that can be read again without reopening it (see idleProbe).
	track string
	seq   atomic.Int64
}

// Limits are what a jail's cgroup enforces over every process in it.
type Limits struct {
	MemoryMB int64
	MaxPids  int64
	CPUs     float64 // CPU time per wall-clock second (1 = one core); 0: no quota
}

// DetectCgroups finds a cgroup hierarchy this process may create children in (v2
// first, then v1) and makes its own directory there. The error says what is missing.
func DetectCgroups() (*Cgroups, error) {
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	name := fmt.Sprintf("sous-%d", os.Getpid())
	v2err := errors.New("no cgroup2 mount")
	if mnt := mountOf(mounts, "cgroup2", ""); mnt != "" {
		var dir string
		if dir, v2err = setupV2(mnt, ownPath(own, ""), name); v2err == nil {
			// cpu is optional: without it max_cpus is not enforced (the timeout still is).
			cpu := os.WriteFile(filepath.Join(filepath.Dir(dir), "cgroup.subtree_control"), []byte("+cpu"), 0) == nil &&
				os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+cpu"), 0) == nil
			return &Cgroups{V2: true, CPU: cpu, base: []string{dir}}, nil
		}
	}
	var dirs []string
	for _, ctrl := range []string{"memory", "pids"} {
		mnt := mountOf(mounts, "cgroup", ctrl)
		if mnt == "" {
			return nil, fmt.Errorf("cgroups: cgroup v2 unusable (%v) and no cgroup v1 %s hierarchy is mounted", v2err, ctrl)
		}
		dir := filepath.Join(mnt, ownPath(own, ctrl), name)
		removeStale(filepath.Dir(dir))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("cgroups: cgroup v2 unusable (%v); cgroup v1 %s: %w", v2err, ctrl, err)
		}
		dirs = append(dirs, dir)
	}
	c := &Cgroups{base: dirs, track: trackDir(mountOf(mounts, "cgroup2", ""), ownPath(own, ""), name)}
	if mnt := mountOf(mounts, "cgroup", "cpu"); mnt != "" {
		dir := filepath.Join(mnt, ownPath(own, "cpu"), name)
		removeStale(filepath.Dir(dir))
		if os.MkdirAll(dir, 0o755) == nil {
			c.base, c.CPU = append(c.base, dir), true
		}
	}
	return c, nil
}

// setupV2 prepares dir/<name> under our own cgroup with memory and pids enabled for
// its children. A non-root cgroup with processes cannot delegate controllers, so this
// process first moves into a leaf of its own ("supervisor").
func setupV2(mnt, own, name string) (string, error) {
	cur := filepath.Join(mnt, own)
	ctrls, err := os.ReadFile(filepath.Join(cur, "cgroup.controllers"))
	if err != nil {
		return "", err
	}
	for _, c := range []string{"memory", "pids"} {
		if !bytes.Contains(append(append([]byte(" "), bytes.TrimSpace(ctrls)...), ' '), []byte(" "+c+" ")) {
			return "", fmt.Errorf("controller %s not available in %s", c, cur)
		}
	}
	if own != "/" {
		leaf := filepath.Join(cur, "supervisor")
		if err := os.MkdirAll(leaf, 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(leaf, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
			return "", fmt.Errorf("move into %s: %w", leaf, err)
		}
	}
	dir := filepath.Join(cur, name)
	removeStale(cur)
	for _, d := range []string{cur, dir} {
		if d == dir {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return "", err
			}
		}
		if err := os.WriteFile(filepath.Join(d, "cgroup.subtree_control"), []byte("+memory +pids"), 0); err != nil {
			return "", fmt.Errorf("enable memory and pids in %s: %w", d, err)
		}
	}
	return dir, nil
}

// trackDir makes dir/<name> under our own cgroup v2 path on a hybrid host, for the
// jails' process lists; "" when there is no cgroup v2 mount or it cannot be written.
func trackDir(mnt, own, name string) string {
	if mnt == "" {
		return ""
	}
	dir := filepath.Join(mnt, own, name)
	removeStale(filepath.Dir(dir))
	if os.MkdirAll(dir, 0o755) != nil {
		return ""
	}
	return dir
}

// removeStale removes the cgroups left under parent by executors that are gone
// (sous-<pid> of a dead pid, and their empty jail cgroups).
func removeStale(parent string) {
	ents, _ := os.ReadDir(parent)
	for _, e := range ents {
		pid, err := strconv.Atoi(strings.TrimPrefix(e.Name(), "sous-"))
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "sous-") || err != nil || pid == os.Getpid() || unix.Kill(pid, 0) != unix.ESRCH {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		kids, _ := os.ReadDir(dir)
		for _, k := range kids {
			if k.IsDir() {
				_ = os.Remove(filepath.Join(dir, k.Name()))
			}
		}
		_ = os.Remove(dir)
	}
}

// mountOf returns the mount point of a cgroup filesystem of type fs carrying option
// opt ("" for any).
func mountOf(mounts []byte, fs, opt string) string {
	sc := bufio.NewScanner(bytes.NewReader(mounts))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || f[2] != fs {
			continue
		}
		if opt == "" || contains(strings.Split(f[3], ","), opt) {
			return f[1]
		}
	}
	return ""
}

// ownPath returns this process's path in the hierarchy of controller ctrl ("" = v2).
func ownPath(own []byte, ctrl string) string {
	for _, l := range strings.Split(string(own), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if ctrl == "" && parts[0] == "0" || ctrl != "" && contains(strings.Split(parts[1], ","), ctrl) {
			return parts[2]
		}
	}
	return "/"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// cpuPeriod is the CFS period (µs) the CPU quota is expressed in.
const cpuPeriod = 100000

// Cgroup is one jail's cgroup (one dir in v2, a memory and a pids dir in v1).
type Cgroup struct {
	v2         bool
	dirs       []string
	track      string   // v1 on a hybrid host: the jail's cgroup v2 dir without controllers
	oom, pids  *os.File // event counters, read after each run
	oomN, pidN int64
	// oomEv (v1) is an eventfd the kernel signals before it OOM-kills in the cgroup,
	// so a run's end reads the OOM counter only once it fired; nil: none (v2, whose
	// memory.events notifications may lag by 10 ms, or a failed registration).
	oomEv *os.File
	lim   Limits
}

// New makes a cgroup for one jail with the limits set.
func (c *Cgroups) New(lim Limits) (*Cgroup, error) {
	n := strconv.FormatInt(c.seq.Add(1), 10)
	g := &Cgroup{v2: c.V2, lim: lim}
	for _, b := range c.base {
		d := filepath.Join(b, "j"+n)
		if err := os.Mkdir(d, 0o755); err != nil {
			g.Remove()
			return nil, fmt.Errorf("cgroup %s: %w", d, err)
		}
		g.dirs = append(g.dirs, d)
	}
	if c.track != "" && os.Mkdir(filepath.Join(c.track, "j"+n), 0o755) == nil {
		g.track = filepath.Join(c.track, "j"+n)
	}
	mem, pids, cpu := g.dirs[0], g.dirs[min(1, len(g.dirs)-1)], g.dirs[len(g.dirs)-1]
	bytes := strconv.FormatInt(lim.MemoryMB<<20, 10)
	type setting struct{ path, val string }
	set := []setting{{filepath.Join(pids, "pids.max"), strconv.FormatInt(lim.MaxPids, 10)}}
	quota := strconv.FormatInt(int64(lim.CPUs*cpuPeriod), 10)
	if c.V2 {
		set = append(set, setting{filepath.Join(mem, "memory.max"), bytes})
		if c.CPU && lim.CPUs > 0 {
			set = append(set, setting{filepath.Join(cpu, "cpu.max"), quota + " " + strconv.Itoa(cpuPeriod)})
		}
	} else {
		set = append(set, setting{filepath.Join(mem, "memory.limit_in_bytes"), bytes})
		if c.CPU && lim.CPUs > 0 {
			set = append(set, setting{filepath.Join(cpu, "cpu.cfs_period_us"), strconv.Itoa(cpuPeriod)},
				setting{filepath.Join(cpu, "cpu.cfs_quota_us"), quota})
		}
	}
	for _, s := range set {
		if err := os.WriteFile(s.path, []byte(s.val), 0); err != nil {
			g.Remove()
			return nil, fmt.Errorf("cgroup limit %s: %w", s.path, err)
		}
	}
	// No swap: the limit is the limit (files absent when the kernel has no swap accounting).
	if c.V2 {
		_ = os.WriteFile(filepath.Join(mem, "memory.swap.max"), []byte("0"), 0)
	} else {
		_ = os.WriteFile(filepath.Join(mem, "memory.memsw.limit_in_bytes"), []byte(bytes), 0)
	}
	oomFile := "memory.oom_control"
	if c.V2 {
		oomFile = "memory.events"
	}
	var err error
	if g.oom, err = os.Open(filepath.Join(mem, oomFile)); err == nil {
		g.pids, err = os.Open(filepath.Join(pids, "pids.events"))
	}
	if err != nil {
		g.Remove()
		return nil, fmt.Errorf("cgroup events: %w", err)
	}
	if !c.V2 {
		g.oomEv = oomEventfd(mem, g.oom)
	}
	return g, nil
}

// oomEventfd registers an eventfd for the v1 memory cgroup dir's OOM notification
// (cgroup.event_control with memory.oom_control), which the kernel signals before it
// kills; nil when that fails, and the OOM counter is then read after every run. Recent
// kernels log once that this notification is deprecated; one without it refuses the
// registration, and the counter is read.
func oomEventfd(dir string, oomControl *os.File) *os.File {
	rc, err := oomControl.SyscallConn()
	if err != nil {
		return nil
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil
	}
	var werr error
	if err := rc.Control(func(fd uintptr) {
		werr = os.WriteFile(filepath.Join(dir, "cgroup.event_control"), []byte(fmt.Sprintf("%d %d", efd, fd)), 0)
	}); err != nil || werr != nil {
		unix.Close(efd)
		return nil
	}
	return os.NewFile(uintptr(efd), "oom-eventfd")
}

// OOMSignal is the descriptor the kernel makes readable before an OOM kill in the
// cgroup (poll it for POLLIN); -1 when there is none.
func (g *Cgroup) OOMSignal() int {
	fd := -1
	if g.oomEv != nil {
		if rc, err := g.oomEv.SyscallConn(); err == nil {
			_ = rc.Control(func(f uintptr) { fd = int(f) })
		}
	}
	return fd
}

// Dirs are the directories the jail's init joins.
func (g *Cgroup) Dirs() []string { return g.dirs }

// Track is the jail's cgroup v2 dir without controllers on a hybrid host, joined for
// its process list alone ("" elsewhere).
func (g *Cgroup) Track() string { return g.track }

// Breach reports a limit hit since the last call (the memory limit's OOM kill, or a
// fork refused at the process limit), in words that name the limit; "" when none.
// With an OOM signal, the OOM counter is read only once it fired: a kill the memory
// cgroup did not signal (the host's own OOM killer) is not the function's memory_mb.
func (g *Cgroup) Breach() string {
	fired := false
	if fd := g.OOMSignal(); fd >= 0 {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		_, err := rawio.Ready(fds)
		fired = err != nil || fds[0].Revents != 0
	}
	return g.BreachPolled(fired)
}

// BreachPolled is Breach for a caller that polled OOMSignal itself and saw it fired
// or not: the OOM counter is read only when it fired (or there is no signal).
func (g *Cgroup) BreachPolled(oomFired bool) string {
	buf := make([]byte, 512)
	if oomFired || g.oomEv == nil {
		// The signal comes before the kill counts: it is drained only once a kill is
		// counted (then the counter is read again, so a kill between the two reads is
		// not lost); until then it stays readable and later calls keep reading.
		if n := counter(g.oom, buf, "oom_kill"); n > g.oomN {
			if g.oomEv != nil {
				if rc, err := g.oomEv.SyscallConn(); err == nil {
					_ = rc.Control(func(fd uintptr) { _, _ = rawio.TryRead(fd, buf[:8]) })
				}
				n = max(n, counter(g.oom, buf, "oom_kill"))
			}
			g.oomN = n
			return fmt.Sprintf("memory limit exceeded: the function's processes together used more than memory_mb %d (a process was killed)", g.lim.MemoryMB)
		}
	}
	if n := counter(g.pids, buf, "max"); n > g.pidN {
		g.pidN = n
		return fmt.Sprintf("process limit reached: the function tried to run more than max_pids %d processes and threads", g.lim.MaxPids)
	}
	return ""
}

// counter reads "<key> <n>" from an event file, in one pread: the file is a few
// short lines, and ReadAt would make a second call to see its end (each system call
// is a few µs on this path, between a run's result and its answer).
func counter(f *os.File, buf []byte, key string) int64 {
	if f == nil {
		return 0
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	_ = rc.Read(func(fd uintptr) bool {
		n, _ = rawio.Pread(int(fd), buf, 0)
		return true
	})
	// Line by line without a slice of lines: this runs after every warm run.
	for rest := buf[:max(n, 0)]; len(rest) > 0; {
		var l []byte
		l, rest, _ = bytes.Cut(rest, []byte{'\n'})
		if k, v, ok := bytes.Cut(l, []byte{' '}); ok && string(k) == key {
			x, _ := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			return x
		}
	}
	return 0
}

// Remove deletes the cgroup; after the jail's processes are gone.
func (g *Cgroup) Remove() {
	for _, f := range []*os.File{g.oom, g.pids, g.oomEv} {
		if f != nil {
			f.Close()
		}
	}
	for _, d := range append(slices.Clip(g.dirs), g.track) {
		if d != "" {
			_ = os.Remove(d)
		}
	}
}
