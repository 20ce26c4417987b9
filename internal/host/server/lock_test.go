package server

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestDataDirLock(t *testing.T) {
	dir := t.TempDir()
	if _, ok := Running(dir); ok {
		t.Fatal("Running before any lock")
	}
	l, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.write(Holder{PID: os.Getpid(), API: "127.0.0.1:1234"}); err != nil {
		t.Fatal(err)
	}
	_, err = lockDataDir(dir)
	want := fmt.Sprintf("another Sous host is using %s (pid %d, API on 127.0.0.1:1234)", dir, os.Getpid())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("second lock: %v, want %q", err, want)
	}
	if h, ok := Running(dir); !ok || h.API != "127.0.0.1:1234" {
		t.Fatalf("Running: %+v %v", h, ok)
	}
	l.release()
	if _, ok := Running(dir); ok {
		t.Fatal("Running after release")
	}
	l2, err := lockDataDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	l2.release()
}
