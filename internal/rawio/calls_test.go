package rawio

import (
	"testing"

	"golang.org/x/sys/unix"
)

// Ready reports which of several descriptors have data, in one call, without waiting.
func TestReady(t *testing.T) {
	var fds [2][2]int
	for i := range fds {
		if err := unix.Pipe2(fds[i][:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, p := range fds {
			for _, fd := range p {
				if fd >= 0 {
					unix.Close(fd)
				}
			}
		}
	})
	poll := func() []unix.PollFd {
		p := []unix.PollFd{{Fd: int32(fds[0][0]), Events: unix.POLLIN}, {Fd: -1}, {Fd: int32(fds[1][0]), Events: unix.POLLIN}}
		n, err := Ready(p)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for _, f := range p {
			if f.Revents != 0 {
				got++
			}
		}
		if n != got {
			t.Fatalf("Ready returned %d, %d descriptors have events", n, got)
		}
		return p
	}
	if p := poll(); p[0].Revents != 0 || p[2].Revents != 0 {
		t.Fatalf("empty pipes reported ready: %+v", p)
	}
	if _, err := unix.Write(fds[1][1], []byte("x")); err != nil {
		t.Fatal(err)
	}
	if p := poll(); p[0].Revents != 0 || p[2].Revents&unix.POLLIN == 0 || p[1].Revents != 0 {
		t.Fatalf("want only the second pipe ready: %+v", p)
	}
	unix.Close(fds[0][1])
	fds[0][1] = -1
	if p := poll(); p[0].Revents&unix.POLLHUP == 0 {
		t.Fatalf("a pipe whose writer closed is not reported: %+v", p)
	}
	if n, err := Ready(nil); n != 0 || err != nil {
		t.Fatalf("Ready(nil) = %d, %v", n, err)
	}
}
