package sandbox

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// killStrays kills every process of the namespace but the init and the runtime
// (what the last run left behind: background children, setsid daemons), repeating
// until none is left running. Zombies are skipped: their parent reaps them.
func killStrays(runtimePid int) {
	for range 100 {
		found := false
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == 1 || pid == runtimePid {
				continue
			}
			if zombie(e.Name()) {
				continue
			}
			_ = unix.Kill(pid, unix.SIGKILL)
			found = true
		}
		if !found {
			return
		}
	}
}

// zombie reports whether /proc/<pid> is a zombie (or already gone).
func zombie(pid string) bool {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z'
}

// emptyDir removes everything inside dir (the tmpfs mount point itself stays).
func emptyDir(dir string) {
	f, err := os.Open(dir)
	if err != nil {
		return
	}
	names, _ := f.Readdirnames(-1)
	f.Close()
	for _, n := range names {
		_ = os.RemoveAll(filepath.Join(dir, n))
	}
}
