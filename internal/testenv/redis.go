package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Redis is a private redis-server on a free loopback port, owned by one test.
type Redis struct {
	Port int
	Addr string // 127.0.0.1:port
	URL  string // redis://127.0.0.1:port/0
	dir  string
	args []string
	cmd  *exec.Cmd
	t    testing.TB
}

// StartRedis starts a redis-server for the test and stops it at cleanup. Extra args go
// to redis-server, e.g. "--appendonly", "yes", "--appendfsync", "always" for a server
// whose data survives Kill + Start.
func StartRedis(t testing.TB, args ...string) *Redis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		missing(t, "redis-server (apt-get install redis-server)")
	}
	r := &Redis{t: t, dir: t.TempDir(), Port: FreePort(t), args: args}
	r.Addr = fmt.Sprintf("127.0.0.1:%d", r.Port)
	r.URL = "redis://" + r.Addr + "/0"
	r.Start()
	t.Cleanup(r.Kill)
	return r
}

// Start (re)starts the server on the same port.
func (r *Redis) Start() {
	r.t.Helper()
	args := append([]string{"--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1",
		"--save", "", "--dir", r.dir, "--logfile", filepath.Join(r.dir, "redis.log")}, r.args...)
	r.cmd = exec.Command("redis-server", args...)
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	WaitTCP(r.t, r.Addr, 10*time.Second)
}

// Kill stops the server at once (SIGKILL); data is lost as on a crash without persistence.
func (r *Redis) Kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_, _ = r.cmd.Process.Wait()
		r.cmd = nil
	}
}

// WaitTCP waits until addr accepts connections.
func WaitTCP(t testing.TB, addr string, within time.Duration) {
	t.Helper()
	end := time.Now().Add(within)
	for time.Now().Before(end) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not accept connections within %s", addr, within)
}

// ProcessAlive reports whether pid exists.
func ProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}
