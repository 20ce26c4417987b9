package sandbox

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMountAndOwnPath(t *testing.T) {
	mounts := []byte("tmpfs /sys/fs/cgroup tmpfs rw 0 0\n" +
		"cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n" +
		"cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0\n" +
		"cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n")
	for _, c := range []struct{ fs, opt, want string }{
		{"cgroup", "memory", "/sys/fs/cgroup/memory"},
		{"cgroup", "cpu", "/sys/fs/cgroup/cpu,cpuacct"},
		{"cgroup", "pids", ""},
		{"cgroup2", "", "/sys/fs/cgroup/unified"},
	} {
		if got := mountOf(mounts, c.fs, c.opt); got != c.want {
			t.Errorf("mountOf(%s, %s) = %q, want %q", c.fs, c.opt, got, c.want)
		}
	}
	own := []byte("8:pids:/\n4:memory:/process_api/abc\n1:cpu,cpuacct:/x\n0::/user.slice/s\n")
	for ctrl, want := range map[string]string{"memory": "/process_api/abc", "cpu": "/x", "pids": "/", "": "/user.slice/s", "blkio": "/"} {
		if got := ownPath(own, ctrl); got != want {
			t.Errorf("ownPath(%q) = %q, want %q", ctrl, got, want)
		}
	}
}

// Breach reports each new OOM kill or refused fork once, naming the limit.
func TestBreachCounters(t *testing.T) {
	g, oom, pids := fakeCounters(t, "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
	write := func(p, s string) { writeFile(t, p, s) }
	if m := g.Breach(); m != "" {
		t.Fatalf("no event: got %q", m)
	}
	write(oom, "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
	if m := g.Breach(); !strings.Contains(m, "memory_mb 64") {
		t.Fatalf("oom kill: got %q", m)
	}
	if m := g.Breach(); m != "" {
		t.Fatalf("the same oom kill reported twice: %q", m)
	}
	write(pids, "max 3\n")
	if m := g.Breach(); !strings.Contains(m, "max_pids 16") {
		t.Fatalf("refused fork: got %q", m)
	}
}

// With an OOM signal, the OOM counter is read only once the signal fired (Breach polls
// it, BreachPolled takes the caller's poll), and the signal is kept until a kill is
// counted, then drained; the refused-fork counter is read every time.
func TestBreachPolledReadsOOMOnceSignalled(t *testing.T) {
	g, oom, pids := fakeCounters(t, "oom_kill 1\n") // a kill counted, never signalled
	write := func(p, s string) { writeFile(t, p, s) }
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	g.oomEv = os.NewFile(uintptr(efd), "oom-eventfd")
	if g.OOMSignal() != efd {
		t.Fatalf("OOMSignal = %d, want the eventfd %d", g.OOMSignal(), efd)
	}
	if m := g.Breach(); m != "" {
		t.Fatalf("the OOM counter was read without its signal: %q", m)
	}
	write(pids, "max 2\n")
	if m := g.BreachPolled(false); !strings.Contains(m, "max_pids 16") {
		t.Fatalf("refused fork without the OOM signal: got %q", m)
	}
	signal := func() {
		if _, err := unix.Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0}); err != nil {
			t.Fatal(err)
		}
	}
	g.oomN = 1 // from here, the unsignalled kill is behind us
	signal()   // an OOM kill under way: signalled, not counted yet
	if m := g.Breach(); m != "" {
		t.Fatalf("a signal without a counted kill reported: %q", m)
	}
	write(oom, "oom_kill 2\n") // counted after that check: the signal was kept for it
	if m := g.Breach(); !strings.Contains(m, "memory_mb 64") {
		t.Fatalf("signalled OOM kill: got %q", m)
	}
	if _, err := unix.Read(efd, make([]byte, 8)); err != unix.EAGAIN {
		t.Fatalf("the signal was not drained once the kill was counted: read %v", err)
	}
	if m := g.Breach(); m != "" {
		t.Fatalf("the same kill reported twice: %q", m)
	}
	write(oom, "oom_kill 3\n")
	plain := &Cgroup{lim: g.lim, oom: g.oom, pids: g.pids, oomN: 2, pidN: 2}
	if m := plain.BreachPolled(false); !strings.Contains(m, "memory_mb 64") {
		t.Fatalf("without a signal the counter is read after every run: got %q", m)
	}
}

// fakeCounters is a Cgroup (memory_mb 64, max_pids 16) reading its OOM counter
// (starting as oomText) and its refused-fork counter (0) from files in a temp dir.
func fakeCounters(t *testing.T, oomText string) (g *Cgroup, oom, pids string) {
	t.Helper()
	dir := t.TempDir()
	oom, pids = filepath.Join(dir, "oom"), filepath.Join(dir, "pids")
	writeFile(t, oom, oomText)
	writeFile(t, pids, "max 0\n")
	g = &Cgroup{lim: Limits{MemoryMB: 64, MaxPids: 16}}
	g.oom, _ = os.Open(oom)
	g.pids, _ = os.Open(pids)
	t.Cleanup(g.Remove)
	return g, oom, pids
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Cgroups of executors that are gone are removed; our own and live ones stay.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	dead, mine := filepath.Join(dir, "sous-999999999"), filepath.Join(dir, "sous-"+strconv.Itoa(os.Getpid()))
	for _, d := range []string{filepath.Join(dead, "j1"), filepath.Join(mine, "j1"), filepath.Join(dir, "other")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	removeStale(dir)
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Fatalf("stale cgroup of a dead executor kept: %v", err)
	}
	for _, d := range []string{mine, filepath.Join(dir, "other")} {
		if _, err := os.Stat(d); err != nil {
			t.Fatalf("%s removed: %v", d, err)
		}
	}
}

// On cgroup v1 a jail's cgroup carries the kernel's OOM notification, so a run's end
// polls it instead of reading the counter (the end-to-end check that it fires is the
// executors' TestJailChildMemory).
func TestV1CgroupHasAnOOMSignal(t *testing.T) {
	c, err := DetectCgroups()
	if err != nil {
		t.Skipf("no cgroups here: %v", err)
	}
	if c.V2 {
		t.Skip("cgroup v2: memory.events is read after every run")
	}
	g, err := c.New(Limits{MemoryMB: 64, MaxPids: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Remove()
	if g.OOMSignal() < 0 {
		t.Fatal("no OOM signal registered on a cgroup v1 memory hierarchy")
	}
	if m := g.BreachPolled(false); m != "" {
		t.Fatalf("a new cgroup reports a breach: %q", m)
	}
}

// Reading a counter, after every warm run, allocates no more than the file's
// SyscallConn does: no slice of its lines.
func TestCounterAllocatesNoLines(t *testing.T) {
	g, _, _ := fakeCounters(t, "oom_kill_disable 0\nunder_oom 0\noom_kill 7\n")
	buf := make([]byte, 256)
	conn := testing.AllocsPerRun(100, func() { _, _ = g.oom.SyscallConn() })
	var got int64
	allocs := testing.AllocsPerRun(100, func() { got = counter(g.oom, buf, "oom_kill") })
	if got != 7 {
		t.Fatalf("counter = %d, want 7", got)
	}
	if allocs > conn {
		t.Errorf("counter allocates %.0f times a read, SyscallConn alone %.0f", allocs, conn)
	}
}
