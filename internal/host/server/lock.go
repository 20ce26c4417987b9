package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// LockFile is the file a running host holds locked in its data directory:
// <data_dir>/host.lock, holding the host's pid and API address as JSON.
func LockFile(dataDir string) string { return filepath.Join(dataDir, "host.lock") }

// Holder describes the host that holds a data directory.
type Holder struct {
	PID int    `json:"pid"`
	API string `json:"api,omitempty"` // host:port, once it listens; "" for a worker
}

// dataLock is this process's hold on its data directory: an exclusive flock,
// released by the kernel when the process dies, so a crashed host never
// leaves a stale lock behind.
type dataLock struct {
	f *os.File
}

// lockDataDir takes the data directory for this process, or says which host has it.
func lockDataDir(dataDir string) (*dataLock, error) {
	f, err := os.OpenFile(LockFile(dataDir), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data dir %s: %w", dataDir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, busyError(dataDir)
		}
		return nil, fmt.Errorf("lock data dir %s: %w", dataDir, err)
	}
	l := &dataLock{f: f}
	if err := l.write(Holder{PID: os.Getpid()}); err != nil {
		l.release()
		return nil, err
	}
	return l, nil
}

// busyError names the host that holds dataDir.
func busyError(dataDir string) error {
	h, _ := readHolder(dataDir)
	who := "pid unknown"
	if h.PID != 0 {
		who = fmt.Sprintf("pid %d", h.PID)
	}
	if h.API != "" {
		who += ", API on " + h.API
	}
	return fmt.Errorf("another Sous host is using %s (%s): stop it (Ctrl-C in its terminal), use it (the CLI finds it), or give this host another --data-dir", dataDir, who)
}

// write replaces the lock file's content with h.
func (l *dataLock) write(h Holder) error {
	data, _ := json.Marshal(h)
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("write %s: %w", l.f.Name(), err)
	}
	if _, err := l.f.WriteAt(append(data, '\n'), 0); err != nil {
		return fmt.Errorf("write %s: %w", l.f.Name(), err)
	}
	return nil
}

// release empties the file and drops the lock.
func (l *dataLock) release() {
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = l.f.Close()
	l.f = nil
}

func readHolder(dataDir string) (Holder, error) {
	var h Holder
	data, err := os.ReadFile(LockFile(dataDir))
	if err != nil {
		return h, err
	}
	err = json.Unmarshal(data, &h)
	return h, err
}

// Running returns the host that holds dataDir right now, if any. The lock is
// the truth (a file left by a killed host does not count).
func Running(dataDir string) (Holder, bool) {
	f, err := os.Open(LockFile(dataDir))
	if err != nil {
		return Holder{}, false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return Holder{}, false
	}
	h, _ := readHolder(dataDir)
	return h, true
}
