package plugintest

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// The helpers below are for attack tests: each plants something a function must not
// reach and checks from the outside that it was not reached.

// Token returns a random hex string, unique to one test.
func Token(t testing.TB) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random: %v", err)
	}
	return hex.EncodeToString(b)
}

// PlantDataDir writes auth/hs256.key holding a fresh secret into the host data dir,
// where the real host keeps its signing key, and returns the secret.
func PlantDataDir(t testing.TB, dataDir string) string {
	t.Helper()
	secret := "key-" + Token(t)
	if err := os.MkdirAll(filepath.Join(dataDir, "auth"), 0o700); err != nil {
		t.Fatalf("plant data dir: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "auth", "hs256.key"), []byte(secret), 0o600); err != nil {
		t.Fatalf("plant data dir: %v", err)
	}
	return secret
}

// LoopbackListener accepts TCP connections on 127.0.0.1 (a free port) until the test
// ends and counts them: a stand-in for the host's Redis, broker or API.
type LoopbackListener struct {
	Host     string
	Port     int
	accepted atomic.Int64
}

// ListenLoopback starts a LoopbackListener.
func ListenLoopback(t testing.TB) *LoopbackListener { t.Helper(); return listenOn(t, "127.0.0.1") }

// ListenExternal starts a listener on the machine's first non-loopback IPv4 address
// (nil when it has none): a service reachable from outside the host.
func ListenExternal(t testing.TB) *LoopbackListener {
	t.Helper()
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return listenOn(t, n.IP.String())
		}
	}
	return nil
}

func listenOn(t testing.TB, host string) *LoopbackListener {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	ll := &LoopbackListener{Host: host, Port: l.Addr().(*net.TCPAddr).Port}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			ll.accepted.Add(1)
			c.Write([]byte("+PONG\r\n"))
			c.Close()
		}
	}()
	return ll
}

// Accepted is the number of connections accepted so far.
func (l *LoopbackListener) Accepted() int64 { return l.accepted.Load() }

// MarkedProcs returns the host pids whose command line contains marker.
func MarkedProcs(marker string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	self := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), marker) {
			out = append(out, pid)
		}
	}
	return out
}

// WaitNoMarkedProcs waits (generously) until no host process carries marker, failing
// the test and killing the survivors otherwise.
func WaitNoMarkedProcs(t testing.TB, marker, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := MarkedProcs(marker)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, p := range pids {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
			t.Fatalf("%s: processes %v still alive", what, pids)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ExecOutput runs one invocation and returns its terminal envelope.
func ExecOutput(t testing.TB, c sdk.Executor, digest, input string, o RunOpts) *envelope.Envelope {
	t.Helper()
	return Terminal(Exec(t, c, digest, input, o))
}

// WantResult fails unless envs end with a result equal (as JSON) to want.
func WantResult(t testing.TB, envs []*envelope.Envelope, want string) {
	t.Helper()
	wantResult(t, envs, want)
}

// WantError fails unless envs end with an error of kind whose message contains each
// of contains.
func WantError(t testing.TB, envs []*envelope.Envelope, kind string, contains ...string) *envelope.Envelope {
	t.Helper()
	return wantError(t, envs, kind, contains...)
}

// Dump renders envelopes for a failure message.
func Dump(envs []*envelope.Envelope) string { return dump(envs) }
