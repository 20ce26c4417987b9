package sandbox

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// killStrays kills every process of the namespace but the init and the runtime
// (what the last run left behind: background children, setsid daemons), repeating
// until none is left running. Zombies are skipped: their parent reaps them.
func killStrays(runtimePid int) {
	began := time.Now()
	for i := 0; ; i++ {
		found := false
		for _, name := range dirNames("/proc") {
			pid, err := strconv.Atoi(name)
			if err != nil || pid == 1 || pid == runtimePid {
				continue
			}
			if zombie(name) {
				continue
			}
			_ = unix.Kill(pid, unix.SIGKILL)
			found = true
		}
		if !found {
			return
		}
		// A killed process is gone only once the kernel schedules its exit: on a starved
		// CPU that takes longer than a few scans, so later scans wait a little first.
		if i >= 20 {
			if time.Since(began) > strayWait {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// strayWait bounds how long a clean waits for killed processes to exit.
const strayWait = 2 * time.Second

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
	for _, n := range dirNames(dir) {
		_ = os.RemoveAll(filepath.Join(dir, n))
	}
}

// dirNames lists dir with raw system calls (open, getdents until empty, close): the
// clean runs after every invocation, and os.ReadDir adds fcntl calls, a sort and a
// poller registration attempt to each listing.
func dirNames(dir string) []string {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	var names []string
	buf := make([]byte, 8<<10)
	for {
		n, err := unix.ReadDirent(fd, buf)
		if err != nil || n <= 0 {
			return names
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
}
