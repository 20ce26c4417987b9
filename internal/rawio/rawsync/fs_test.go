package rawsync

import (
	"errors"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
)

// Only write-ahead logs are made raw; other files keep the file system's own syncs.
func TestOnlyTheWALSyncsRaw(t *testing.T) {
	dir, fs := t.TempDir(), FS(vfs.Default)
	for name, raw := range map[string]bool{"000002.log": true, "MANIFEST-000001": false, "000005.sst": false} {
		f, err := fs.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := f.(rawFile); ok != raw {
			t.Errorf("%s: raw sync %v, want %v", name, ok, raw)
		}
		if _, err := f.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := f.SyncData(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f.Close()
	}
}

// A sync that fails says so, naming the file: a WAL whose descriptor is gone.
func TestAFailedSyncIsAnError(t *testing.T) {
	dir := t.TempDir()
	f, err := FS(vfs.Default).Create(filepath.Join(dir, "000009.log"))
	if err != nil {
		t.Fatal(err)
	}
	fd := f.Fd()
	f.Close()
	err = rawFile{File: f, name: "000009.log"}.call(syscall.SYS_FDATASYNC)
	if !errors.Is(err, syscall.EBADF) || fd == vfs.InvalidFd {
		t.Fatalf("sync of a closed WAL: %v, want EBADF", err)
	}
}

// A Pebble store on it keeps what was committed with Sync across a reopen.
func TestPebbleKeepsSyncedWrites(t *testing.T) {
	dir := t.TempDir()
	open := func() *pebble.DB {
		db, err := pebble.Open(dir, &pebble.Options{FS: FS(vfs.Default)})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	if err := db.Set([]byte("k"), []byte("v"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open()
	defer db.Close()
	v, closer, err := db.Get([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	if string(v) != "v" {
		t.Fatalf("got %q after reopen", v)
	}
}

// A WAL sync holds its P, so what is already runnable goes first: with one P, a
// goroutine readied before the sync has run by the time the sync returns (the
// scheduler's periodic look at its global queue may give the P straight back, so a
// round now and then is allowed to miss).
func TestSyncLetsRunnableGoroutinesGoFirst(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	f, err := FS(vfs.Default).Create(filepath.Join(t.TempDir(), "000003.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const rounds = 40
	first := 0
	for range rounds {
		var ran atomic.Bool
		ready := make(chan struct{})
		go func() { <-ready; ran.Store(true) }()
		close(ready) // runnable on this P; nothing yields to it before the sync
		if _, err := f.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := f.SyncData(); err != nil {
			t.Fatal(err)
		}
		if ran.Load() {
			first++
		}
	}
	if first < rounds*3/4 {
		t.Fatalf("a goroutine runnable before the sync ran first in %d of %d rounds, want most", first, rounds)
	}
}
