package sandbox

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// The probe keeps the jail's cgroup v2 process list open and reads it again at each
// check: a process that joined or left since the last read must show, or a process a
// run left behind would outlive it (the init is asked to clean only when the probe
// sees one).
func TestIdleProbeListsTheJailAfreshOnEveryCheck(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make cgroups")
	}
	c, err := DetectCgroups()
	if err != nil {
		t.Skip(err)
	}
	g, err := c.New(Limits{MemoryMB: 256, MaxPids: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Remove()
	dirs := g.Dirs()
	if g.Track() != "" {
		dirs = append(dirs, g.Track())
	}
	v2 := false
	for _, d := range dirs {
		var st unix.Statfs_t
		v2 = v2 || unix.Statfs(d, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
	}
	if !v2 {
		t.Skip("no cgroup v2 hierarchy: the probe reopens the v1 list at each check")
	}
	join := func() *exec.Cmd {
		cmd := exec.Command("sleep", "60")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		for _, d := range dirs {
			if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0); err != nil {
				t.Fatal(err)
			}
		}
		return cmd
	}
	join()
	join()
	p := newIdleProbe(os.Getpid(), g.Dirs(), g.Track(), 1)
	if p == nil || p.procs < 0 {
		t.Fatalf("the probe does not keep the cgroup v2 list open (%+v)", p)
	}
	defer p.close()
	count := func() int {
		n, err := p.readProcs()
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Count(p.buf[:n], []byte{'\n'})
	}
	if n := count(); n != 2 {
		t.Fatalf("two members: the list shows %d", n)
	}
	stray := join()
	if n := count(); n != 3 {
		t.Fatalf("a process joined after the list was opened: it shows %d members, want 3", n)
	}
	_ = stray.Process.Kill()
	_ = stray.Wait()
	if n := count(); n != 2 {
		t.Fatalf("a member exited: the list shows %d, want 2", n)
	}
}
