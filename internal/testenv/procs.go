package testenv

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ProcStat returns a process's parent, state and start time from /proc/<pid>/stat.
func ProcStat(pid int) (ppid int, state string, start string, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, "", "", false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return 0, "", "", false
	}
	f := strings.Fields(s[i+1:]) // f[0] = state (field 3), f[1] = ppid, f[19] = starttime (field 22)
	if len(f) < 20 {
		return 0, "", "", false
	}
	ppid, _ = strconv.Atoi(f[1])
	return ppid, f[0], f[19], true
}

// PIDs lists the processes /proc shows now.
func PIDs() []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// Children lists the processes whose parent is ppid.
func Children(ppid int) []int {
	var out []int
	for _, pid := range PIDs() {
		if p, _, _, ok := ProcStat(pid); ok && p == ppid {
			out = append(out, pid)
		}
	}
	return out
}

// Cmdline is a process's command line, arguments joined by spaces (empty once gone).
func Cmdline(pid int) string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " ")
}
