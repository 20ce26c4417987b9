package sandbox

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
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
	dir := t.TempDir()
	oom, pids := filepath.Join(dir, "oom"), filepath.Join(dir, "pids")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(oom, "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
	write(pids, "max 0\n")
	g := &Cgroup{lim: Limits{MemoryMB: 64, MaxPids: 16}}
	g.oom, _ = os.Open(oom)
	g.pids, _ = os.Open(pids)
	defer g.Remove()
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
