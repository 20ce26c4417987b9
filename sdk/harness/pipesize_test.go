package harness

import (
	"errors"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// growPipe enlarges the pipe and leaves the file's deadlines working (the envelope
// channel's read deadline is the function's timeout).
func TestGrowPipeKeepsDeadlines(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	growPipe(r)
	c, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	size := 0
	if err := c.Control(func(fd uintptr) { size, err = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0) }); err != nil || size < envelopePipeSize {
		t.Fatalf("pipe size %d (%v), want at least %d", size, err, envelopePipeSize)
	}
	if err := r.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
		t.Fatalf("deadline: %v", err)
	}
	stuck := time.AfterFunc(2*time.Second, func() { _, _ = w.Write([]byte{1}) }) // a blocking read ends too
	defer stuck.Stop()
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v, want os.ErrDeadlineExceeded", err)
	}
}
