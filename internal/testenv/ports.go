package testenv

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Ports come from below the kernel's ephemeral range (32768 and up on Linux), so no
// connection or ":0" listener of any process is handed one while a test holds it.
const (
	portLow  = 20000
	portHigh = 32767
)

// portLockDir holds one lock file per reserved port, shared by every test process of
// the machine (go test runs packages as parallel processes).
var portLockDir = filepath.Join(os.TempDir(), "sous-testenv-ports")

// FreePort reserves a free TCP port on 127.0.0.1 for the test and returns it. The
// reservation is an exclusive lock on a file named after the port, held until the test
// ends (or its process dies), so two tests — in one process or in parallel test
// processes — never get the same port, and a process the test starts (redis-server,
// a host) can bind it, and bind it again after a restart, while the test runs.
func FreePort(t testing.TB) int {
	t.Helper()
	if err := os.MkdirAll(portLockDir, 0o777); err != nil {
		t.Fatalf("free port: %v", err)
	}
	span := portHigh - portLow + 1
	start := rand.IntN(span)
	for i := 0; i < span; i++ {
		port := portLow + (start+i)%span
		f, ok := lockPort(port)
		if !ok {
			continue
		}
		if !bindable(port) {
			f.Close() // closing the file releases its lock
			continue
		}
		t.Cleanup(func() { f.Close() })
		return port
	}
	t.Fatalf("free port: every port in %d-%d is reserved or in use", portLow, portHigh)
	return 0
}

// lockPort takes the port's lock without waiting; ok is false when another test holds it.
func lockPort(port int) (*os.File, bool) {
	f, err := os.OpenFile(filepath.Join(portLockDir, fmt.Sprint(port)), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return f, true
}

// bindable reports whether nothing listens on the port now (a process not using
// FreePort, or one left over from a crashed test).
func bindable(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}
