package store

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"
)

// ErrDiskFull: the data dir has too little free space to accept new work.
var ErrDiskFull = errors.New("data dir is nearly full")

// MinFreeBytes is the free space below which new invocations and deploys are refused:
// the records of runs already accepted, and Pebble's next WAL and flush, still fit.
const MinFreeBytes = 16 << 20

// ampleFreeBytes is the free space above which a statfs answer is reused for a second.
const ampleFreeBytes = 1 << 30

// space answers whether the data dir has room. It asks statfs at most once a second
// while there is ample room, and on every check once free space is near the floor
// (a disk can fill within the second).
type space struct {
	dir     string
	mu      sync.Mutex
	checked time.Time
	free    uint64
}

// check returns an error wrapping ErrDiskFull when the data dir has less than
// MinFreeBytes free (a statfs error is not reported: writes will say what is wrong).
func (sp *space) check(what string) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.free < ampleFreeBytes || time.Since(sp.checked) > time.Second {
		var st syscall.Statfs_t
		if err := syscall.Statfs(sp.dir, &st); err != nil {
			return nil
		}
		sp.free, sp.checked = st.Bavail*uint64(st.Bsize), time.Now()
	}
	if sp.free < MinFreeBytes {
		return fmt.Errorf("%s: %w: %s has %d bytes free, below the %d Sous keeps for runs already accepted; free space there (no space left on device)",
			what, ErrDiskFull, sp.dir, sp.free, MinFreeBytes)
	}
	return nil
}
