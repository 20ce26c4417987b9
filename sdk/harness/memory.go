package harness

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/sous-run/sous/sdk/envelope"
)

// rssPoll is how often the RSS watcher samples a running process.
const rssPoll = 10 * time.Millisecond

var pageSize = int64(os.Getpagesize())

// watchRSS samples the process's resident set size until stop is closed and ends the
// run with a limit error when it passes limit bytes.
func watchRSS(p *Proc, limit int64, stop <-chan struct{}) {
	go func() {
		path := "/proc/" + strconv.Itoa(p.runtimePid()) + "/statm"
		t := time.NewTicker(rssPoll)
		defer t.Stop()
		buf := make([]byte, 128)
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			if rss := readRSS(path, buf); rss > limit {
				limitKills.WithLabelValues("memory").Inc()
				p.stop(&stopReason{kind: envelope.KindLimit, message: fmt.Sprintf(
					"memory limit exceeded: resident set %d MB over memory_mb %d (process group killed)", rss>>20, limit>>20)})
				return
			}
		}
	}()
}

// runtimePid is the host pid of the runtime: the harness itself, or in a jail the
// init's child (found through /proc/<init>/task/<init>/children).
func (p *Proc) runtimePid() int {
	if p.jail == nil {
		return p.pid
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", p.pid, p.pid))
	if f := bytes.Fields(b); len(f) > 0 {
		if pid, err := strconv.Atoi(string(f[0])); err == nil {
			return pid
		}
	}
	return p.pid
}

// readRSS returns the resident set in bytes from /proc/<pid>/statm (0 if unreadable).
func readRSS(path string, buf []byte) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	n, _ := f.Read(buf)
	f.Close()
	fields := bytes.Fields(buf[:n])
	if len(fields) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(string(fields[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * pageSize
}
