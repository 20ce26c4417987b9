package harness

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// rssPoll is how often the RSS watcher samples a running process.
const rssPoll = 10 * time.Millisecond

var pageSize = int64(os.Getpagesize())

// watchRSS samples pid's resident set size until stop is closed and sends it once on
// the returned channel when it passes limit bytes.
func watchRSS(pid int, limit int64, stop <-chan struct{}) <-chan int64 {
	ch := make(chan int64, 1)
	path := "/proc/" + strconv.Itoa(pid) + "/statm"
	go func() {
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
				ch <- rss
				return
			}
		}
	}()
	return ch
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
