// Package rawsync is a Pebble file system whose write-ahead logs are written and
// synced with raw system calls (see rawio): the group commit's fdatasync, once per
// batch of writes, is the one system call on the hot path that blocks.
//
// Made through the runtime's system call entry it woke the runtime's monitor thread in
// an idle process; after 20 µs the monitor handed the process's P to another thread,
// which was woken for it, and the syncing thread then had to win it back. A raw sync
// keeps its P for the sync's length instead (the WAL's: 0.1–0.3 ms here), so it first
// lets the goroutines already runnable on that P go: the one that made the write has
// often just readied others that need not wait for the disk (a queue's delivery, an
// answer to another caller), and with one P they would otherwise wait the whole sync.
// Writes made meanwhile join the sync. The other files' syncs (tables, the manifest:
// rarer and longer) go the usual way.
//
// A WAL's reserved space also counts in its size (Preallocate), so a synced write does
// not have to log a new size as well.
package rawsync

import (
	"os"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/cockroachdb/pebble/vfs"

	"github.com/sous-run/sous/internal/rawio"
)

// FS is fs whose write-ahead log files (*.log) are written and synced raw.
func FS(fs vfs.FS) vfs.FS { return rawFS{fs} }

type rawFS struct{ vfs.FS }

func (f rawFS) Create(name string) (vfs.File, error) { return wrap(name)(f.FS.Create(name)) }

func (f rawFS) ReuseForWrite(oldname, newname string) (vfs.File, error) {
	return wrap(newname)(f.FS.ReuseForWrite(oldname, newname))
}

// wrap returns what makes a file opened as name sync raw when it is a WAL.
func wrap(name string) func(vfs.File, error) (vfs.File, error) {
	return func(f vfs.File, err error) (vfs.File, error) {
		if err != nil || filepath.Ext(name) != ".log" || f.Fd() == vfs.InvalidFd {
			return f, err
		}
		return rawFile{File: f, name: name}, nil
	}
}

type rawFile struct {
	vfs.File
	name string
}

// Write appends to the log with raw writes: a write before each sync, which through
// the runtime would wake the monitor thread the raw sync leaves asleep. A write to a
// file's page cache returns at once.
func (f rawFile) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, e := rawio.TryWrite(f.Fd(), p[done:])
		if e != 0 {
			return done, &os.PathError{Op: "write", Path: f.name, Err: e}
		}
		done += n
	}
	return done, nil
}

func (f rawFile) SyncData() error { return f.call(syscall.SYS_FDATASYNC) }
func (f rawFile) Sync() error     { return f.call(syscall.SYS_FSYNC) }

func (f rawFile) call(nr uintptr) error {
	runtime.Gosched() // what is runnable goes first: the sync holds this P (see the package doc)
	for {
		_, _, e := syscall.RawSyscall(nr, f.Fd(), 0, 0)
		switch e {
		case 0:
			return nil
		case syscall.EINTR:
		default:
			return &os.PathError{Op: "sync", Path: f.name, Err: e}
		}
	}
}

// Preallocate reserves the log's next blocks and extends its size over them, where
// Pebble's own reservation keeps the size: then every sync of an appended write also
// logged the file's new size (ext4 here: a synced Pebble write 200 → 155 µs,
// BenchmarkSyncedSet). Pebble reads the zeros after a log's last record as its end: a
// log it closed ends with an end-of-log record, and only the newest log may end
// otherwise (TestAStoreOpensFromACrashedCopy). A file system without it falls back to
// Pebble's way.
func (f rawFile) Preallocate(off, n int64) error {
	for {
		switch err := syscall.Fallocate(int(f.Fd()), 0, off, n); err {
		case syscall.EINTR:
		case nil:
			return nil
		default:
			return f.File.Preallocate(off, n)
		}
	}
}
