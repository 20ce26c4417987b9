//go:build race

package rawio

import "syscall"

// Under the race detector reads and writes go through package syscall, whose calls
// tell the detector that what one goroutine wrote to a descriptor happens before
// another's read of it; raw calls would make every exchange between two goroutines of
// one process (a host and a plugin in a test) look like a race.
func sysRead(fd uintptr, b []byte) (int, syscall.Errno) { return errno(syscall.Read(int(fd), b)) }

func sysWrite(fd uintptr, b []byte) (int, syscall.Errno) { return errno(syscall.Write(int(fd), b)) }

func errno(n int, err error) (int, syscall.Errno) {
	if err != nil {
		return 0, err.(syscall.Errno)
	}
	return n, 0
}
