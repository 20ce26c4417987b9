package rawio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

func socketPair(t *testing.T) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "s")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(*net.UnixConn)
	}
	return conn(fds[0]), conn(fds[1])
}

func mustNew(t *testing.T, c Conn) *FD {
	t.Helper()
	f, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A write larger than the socket's buffer waits for the reader and arrives whole, in
// order; the reader sees io.EOF once the writer closes.
func TestRoundTripAndEOF(t *testing.T) {
	a, b := socketPair(t)
	w, r := mustNew(t, a), mustNew(t, b)
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	errc := make(chan error, 1)
	go func() {
		n, err := w.Write(want)
		if err == nil && n != len(want) {
			err = io.ErrShortWrite
		}
		a.Close()
		errc <- err
	}()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, not the %d written", len(got), len(want))
	}
}

// A read waiting for data ends at the descriptor's read deadline, with the error os
// and net give; the next read, without a deadline, gets what came after.
func TestReadHonoursTheDeadline(t *testing.T) {
	a, b := socketPair(t)
	w, r := mustNew(t, a), mustNew(t, b)
	_ = b.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	t0 := time.Now()
	_, err := r.Read(make([]byte, 8))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read: %v, want the deadline's error", err)
	}
	if d := time.Since(t0); d < 25*time.Millisecond {
		t.Fatalf("the read returned after %v, before its deadline", d)
	}
	_ = b.SetReadDeadline(time.Time{})
	if _, err := w.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	n, err := r.Read(buf)
	if err != nil || string(buf[:n]) != "hi" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
}

// Closing the descriptor ends a read blocked on it with net.ErrClosed.
func TestCloseEndsABlockedRead(t *testing.T) {
	_, b := socketPair(t)
	r := mustNew(t, b)
	errc := make(chan error, 1)
	go func() { _, err := r.Read(make([]byte, 8)); errc <- err }()
	time.Sleep(20 * time.Millisecond)
	b.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the read did not end when its descriptor closed")
	}
}

// Pipes from os.Pipe work; a write to a pipe whose reader is gone fails with EPIPE.
func TestPipes(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	r, w := mustNew(t, pr), mustNew(t, pw)
	if _, err := w.Write([]byte("line\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "line\n" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	pr.Close()
	if _, err := w.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("write after the reader left: %v, want EPIPE", err)
	}
}

// A descriptor in blocking mode is refused: a raw read on it would hold a P.
func TestRefusesABlockingDescriptor(t *testing.T) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fds[0]), "blocking") // os leaves a blocking pipe blocking
	defer f.Close()
	defer syscall.Close(fds[1])
	if _, err := New(f); err == nil {
		t.Fatal("New accepted a descriptor in blocking mode")
	}
}

// A TCP connection Dial makes is wrapped (raw reads and writes, and no SyscallConn to make calls
// through the runtime with); a connection without a descriptor is returned as it is.
func TestWrapConn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = io.Copy(c, c)
			c.Close()
		}
	}()
	c, err := Dial(&net.Dialer{})(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*conn); !ok {
		t.Fatalf("a TCP connection was not wrapped: %T", c)
	}
	if _, ok := c.(Conn); ok {
		t.Fatal("the wrapped connection gives its descriptor out")
	}
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo %q, %v", buf, err)
	}
	p, q := net.Pipe()
	defer p.Close()
	defer q.Close()
	if WrapConn(p) != p {
		t.Fatal("a net.Pipe end was wrapped")
	}
}

// Listen's connections are wrapped and half-close as TCP's do: the peer reads the end.
func TestListen(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := Listen(tcp)
	defer ln.Close()
	d, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*conn); !ok {
		t.Fatalf("an accepted TCP connection was not wrapped: %T", c)
	}
	if _, err := c.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(d); err != nil || string(got) != "bye" {
		t.Fatalf("the client read %q, %v", got, err)
	}
}
