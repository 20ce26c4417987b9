package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/sous-run/sous/internal/testenv"
)

// descendants maps every process under root (children, grandchildren, …) to its start time.
func descendants(root int) map[int]string {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	starts := map[int]string{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _, start, ok := testenv.ProcStat(pid); ok {
			children[ppid] = append(children[ppid], pid)
			starts[pid] = start
		}
	}
	out := map[int]string{}
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out[c] = starts[c]
			queue = append(queue, c)
		}
	}
	return out
}

// alive reports whether pid is still the process that started at start and is not a zombie.
func alive(pid int, start string) bool {
	_, state, s, ok := testenv.ProcStat(pid)
	return ok && s == start && state != "Z"
}

// pluginPidOf returns the pid of the host's child whose executable is the plugin
// binary named plugin (0 when there is none, e.g. while it restarts).
func pluginPidOf(t *testing.T, host int, plugin string) int {
	t.Helper()
	want, err := filepath.EvalSymlinks(testenv.Plugin(t, plugin))
	if err != nil {
		t.Fatalf("plugin binary %s: %v", plugin, err)
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, state, _, ok := testenv.ProcStat(pid); !ok || ppid != host || state == "Z" {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == want {
			return pid
		}
	}
	return 0
}

// pluginPid is pluginPidOf for a plugin that must be running.
func pluginPid(t *testing.T, host *proc, plugin string) int {
	t.Helper()
	pid := pluginPidOf(t, host.cmd.Process.Pid, plugin)
	if pid == 0 {
		t.Fatalf("%s has no running %s plugin", host.name, plugin)
	}
	return pid
}
