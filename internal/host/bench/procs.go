package bench

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
)

// Memory is resident memory at the end of the 32-client run of a stack × runtime:
// the host (this process), its plugin processes, and the warm function processes.
type Memory struct {
	HostRSS    int64 // bytes, this process (the in-process host)
	PluginsRSS int64 // bytes, every sous-plugin-* process in all
	Warm       int   // warm function processes (bun / python) alive
	WarmRSS    int64 // bytes, their mean
}

// proc is one process of the tree below this one.
type proc struct {
	pid, ppid int
	comm      string
	rss       int64
}

// readProc reads /proc/<pid>/stat and VmRSS (ok false if it is gone).
func readProc(pid int) (proc, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return proc{}, false
	}
	s := string(b)
	lp, rp := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if lp < 0 || rp < lp {
		return proc{}, false
	}
	f := strings.Fields(s[rp+1:])
	if len(f) < 2 {
		return proc{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	return proc{pid: pid, ppid: ppid, comm: s[lp+1 : rp], rss: rssOf(pid)}, true
}

// rssOf is a process's VmRSS in bytes (0 when unknown).
func rssOf(pid int) int64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// descendants are every process below root.
func descendants(root int) []proc {
	ents, _ := os.ReadDir("/proc")
	children := map[int][]proc{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			children[p.ppid] = append(children[p.ppid], p)
		}
	}
	var out []proc
	var walk func(int)
	walk = func(pid int) {
		for _, c := range children[pid] {
			out = append(out, c)
			walk(c.pid)
		}
	}
	walk(root)
	return out
}

// sampleMemory classifies the processes below this one.
func sampleMemory() Memory {
	// This process also served earlier measurements (another stack's slow readers and
	// 1 MiB rows): the heap they freed goes back to the OS first, so the host's RSS is
	// what it holds now.
	debug.FreeOSMemory()
	m := Memory{HostRSS: rssOf(os.Getpid())}
	var warm int64
	for _, p := range descendants(os.Getpid()) {
		switch {
		case strings.HasPrefix(p.comm, "sous-plugin"):
			m.PluginsRSS += p.rss
		case strings.HasPrefix(p.comm, "bun") || strings.HasPrefix(p.comm, "python"): // bun, bun.exe (npm), python3.x
			m.Warm++
			warm += p.rss
		}
	}
	if m.Warm > 0 {
		m.WarmRSS = warm / int64(m.Warm)
	}
	return m
}

// meanRSS is the mean RSS of pids (0 when none is alive).
func meanRSS(pids []int) int64 {
	var sum int64
	n := 0
	for _, pid := range pids {
		if r := rssOf(pid); r > 0 {
			sum += r
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / int64(n)
}
