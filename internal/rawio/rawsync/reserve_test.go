package rawsync

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
)

// The WAL's reservation (Pebble makes it at its second write) extends its size: the
// synced writes after it land inside the file.
func TestTheWALIsReservedWithinItsSize(t *testing.T) {
	dir := t.TempDir()
	db, err := pebble.Open(dir, &pebble.Options{FS: FS(vfs.Default)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 2 {
		if err := db.Set(key(i), []byte("v"), pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	if len(logs) != 1 {
		t.Fatalf("WALs: %v", logs)
	}
	st, err := os.Stat(logs[0])
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() < 1<<20 {
		t.Fatalf("WAL size %d after two small writes, want the reservation (> 1 MiB)", st.Size())
	}
}

// A store copied while open, as a crash leaves it (its last WAL ending in zeros), opens
// with every synced write, twice in a row: the second time with the first recovery's
// WAL behind a new one.
func TestAStoreOpensFromACrashedCopy(t *testing.T) {
	opts := func() *pebble.Options { return &pebble.Options{FS: FS(vfs.Default), MemTableSize: 1 << 20} }
	dir := t.TempDir()
	db, err := pebble.Open(dir, opts())
	if err != nil {
		t.Fatal(err)
	}
	put := func(db *pebble.DB, from, to int) {
		for i := from; i < to; i++ {
			if err := db.Set(key(i), bytes.Repeat([]byte{'v'}, 200), pebble.Sync); err != nil {
				t.Fatal(err)
			}
		}
	}
	put(db, 0, 100)
	if err := db.Flush(); err != nil { // a second WAL; the first closed behind it
		t.Fatal(err)
	}
	put(db, 100, 200)
	// crash copies the open store as a crash leaves it, closes it and opens the copy.
	crash := func(db *pebble.DB, dir, what string) (*pebble.DB, string) {
		copied := crashCopy(t, dir)
		db.Close()
		db, err := pebble.Open(copied, opts())
		if err != nil {
			t.Fatalf("open after %s: %v", what, err)
		}
		return db, copied
	}
	db, crashed := crash(db, dir, "a crash")
	has(t, db, 200)
	put(db, 200, 300)
	db, _ = crash(db, crashed, "a second crash")
	defer db.Close()
	has(t, db, 300)
}

func key(i int) []byte { return fmt.Appendf(nil, "k%05d", i) }

// crashCopy copies the open store's files as they are now into a new directory.
func crashCopy(t *testing.T, dir string) string {
	t.Helper()
	to := t.TempDir()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	zeroTail := false
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(e.Name(), ".log") && len(b) > 0 && b[len(b)-1] == 0 {
			zeroTail = true
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !zeroTail {
		t.Fatal("no WAL of the copy ends in its reservation's zeros")
	}
	return to
}

// has checks keys 0..n-1 are all there.
func has(t *testing.T, db *pebble.DB, n int) {
	t.Helper()
	for i := range n {
		v, closer, err := db.Get(key(i))
		if err != nil {
			t.Fatalf("key %d of %d: %v", i, n, err)
		}
		ok := len(v) == 200
		closer.Close()
		if !ok {
			t.Fatalf("key %d: %d bytes", i, len(v))
		}
	}
}

// BenchmarkSyncedSet is a synced Pebble write on this file system, with the WAL
// reserved as Pebble does it (the size kept) and as FS does (the size extended).
func BenchmarkSyncedSet(b *testing.B) {
	for _, name := range []string{"size-kept", "size-extended"} {
		b.Run(name, func(b *testing.B) {
			fs := FS(vfs.Default)
			if name == "size-kept" {
				fs = keptFS{fs}
			}
			db, err := pebble.Open(b.TempDir(), &pebble.Options{FS: fs})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			v := make([]byte, 300)
			b.ResetTimer()
			for i := range b.N {
				if err := db.Set(key(i), v, pebble.Sync); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// keptFS reserves its WALs as Pebble's own file system does (FALLOC_FL_KEEP_SIZE).
type keptFS struct{ vfs.FS }

func (f keptFS) Create(name string) (vfs.File, error) {
	file, err := f.FS.Create(name)
	if r, ok := file.(rawFile); ok {
		return keptFile{r}, err
	}
	return file, err
}

type keptFile struct{ rawFile }

func (f keptFile) Preallocate(off, n int64) error { return f.File.Preallocate(off, n) }
