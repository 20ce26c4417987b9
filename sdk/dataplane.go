package sdk

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	executorpb "github.com/sous-run/sous/sdk/proto/executor"
)

// The executor data plane: a Session's runs carried on Unix sockets beside gRPC, as
// the same SessionRequest / SessionEvent messages in length-prefixed frames (a 4-byte
// big-endian length, then the message), one write per frame. It skips HTTP/2 framing,
// flow control and the transport's writer and reader goroutines, which cost more than
// the warm run they carry.
//
// The plugin offers it in the Session's response headers (the socket path and a
// one-time token); the host dials twice, sending the token each time: the first
// connection carries requests to the plugin, the second events back. One connection
// per direction because a blocked reader waits on its socket's one wait queue, which
// the kernel also wakes each time the peer consumes what this end wrote: on a shared
// connection every frame read woke the other side's reader for nothing. From then on
// the Session stream only ties the two lifetimes together (either ending ends the
// other). A plugin that offers none, or a socket the host cannot reach (a plugin over
// TCP), leaves the runs on the Session stream.
const (
	dataPlaneHeader      = "sous-dataplane"       // the socket's path
	dataPlaneTokenHeader = "sous-dataplane-token" // what the host sends first, hex
	tokenLen             = 32
	tokenOK              = 'k'     // the plugin's answer to a good token
	maxFrame             = 1 << 30 // a sanity bound: both ends are trusted
	acceptTimeout        = 10 * time.Second
)

// frameConn reads frames from one connection and writes them to another. Writers
// are serialized by the caller (as a gRPC stream's Send is); one goroutine reads.
type frameConn struct {
	in, out *os.File
	closed  sync.Once
	r       *bufio.Reader
	rbuf    []byte
	wbuf    []byte
}

// newFrameConn takes over in and out (closed here) as files in blocking mode: a
// waiting reader then sleeps in the kernel and is woken there by the peer's write,
// which on an otherwise idle process is faster than a wake-up through the Go
// netpoller (one thread per connection is blocked in read).
func newFrameConn(in, out *net.UnixConn) (*frameConn, error) {
	fi, err := blockingFile(in)
	if err != nil {
		out.Close()
		return nil, err
	}
	fo, err := blockingFile(out)
	if err != nil {
		fi.Close()
		return nil, err
	}
	return &frameConn{in: fi, out: fo, r: bufio.NewReaderSize(fi, 64<<10)}, nil
}

// blockingFile takes over c (closed here) as a blocking file made outside the
// netpoller: a socket's own File stays registered with epoll, so each frame would
// also wake the thread waiting in epoll, for nothing.
func blockingFile(c *net.UnixConn) (*os.File, error) {
	defer c.Close()
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("data plane: %w", err)
	}
	fd := -1
	cerr := rc.Control(func(s uintptr) { fd, err = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) })
	if err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("data plane: dup: %w", err)
	}
	// O_NONBLOCK belongs to the open file, shared with c's descriptor, which c's
	// Close takes out of epoll.
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("data plane: %w", err)
	}
	return os.NewFile(uintptr(fd), "sous-dataplane"), nil
}

// close ends both connections; a read blocked on them returns (shutdown wakes it, a
// close alone would not). Idempotent.
func (f *frameConn) close() {
	f.closed.Do(func() {
		for _, c := range []*os.File{f.in, f.out} {
			if rc, err := c.SyscallConn(); err == nil {
				_ = rc.Control(func(fd uintptr) { _ = unix.Shutdown(int(fd), unix.SHUT_RDWR) })
			}
			_ = c.Close()
		}
	})
}

func (f *frameConn) write(m proto.Message) error {
	b, err := proto.MarshalOptions{}.MarshalAppend(append(f.wbuf[:0], 0, 0, 0, 0), m)
	if err != nil {
		return fmt.Errorf("data plane: encode: %w", err)
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	if cap(b) <= 64<<10 {
		f.wbuf = b // keep a small buffer for the next frame
	}
	_, err = f.out.Write(b)
	return err
}

func (f *frameConn) read(m proto.Message) error {
	var h [4]byte
	if _, err := io.ReadFull(f.r, h[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(h[:])
	if n > maxFrame {
		return fmt.Errorf("data plane: a frame of %d bytes", n)
	}
	if cap(f.rbuf) < int(n) {
		f.rbuf = make([]byte, n)
	}
	b := f.rbuf[:n]
	if _, err := io.ReadFull(f.r, b); err != nil {
		return err
	}
	err := proto.Unmarshal(b, m) // bytes fields are copied out of b
	if cap(f.rbuf) > 64<<10 {
		f.rbuf = nil
	}
	return err
}

// hostFrames is the host's end: a Session client stream's Send and Recv.
type hostFrames struct{ *frameConn }

func (f hostFrames) Send(m *executorpb.SessionRequest) error { return f.write(m) }

// Recv's error, the connection's end, is Unavailable, as a broken stream's is.
func (f hostFrames) Recv() (*executorpb.SessionEvent, error) {
	m := new(executorpb.SessionEvent)
	if err := f.read(m); err != nil {
		return nil, status.Errorf(codes.Unavailable, "executor data plane: %v", err)
	}
	return m, nil
}

// pluginFrames is the plugin's end: a Session server stream's Send and Recv.
type pluginFrames struct{ *frameConn }

func (f pluginFrames) Send(m *executorpb.SessionEvent) error { return f.write(m) }
func (f pluginFrames) Recv() (*executorpb.SessionRequest, error) {
	m := new(executorpb.SessionRequest)
	return m, f.read(m)
}

// dataPlaneListener is one Session's offer: a socket in a directory of its own
// (0700) that accepts one connection, the one presenting the token.
type dataPlaneListener struct {
	dir   string
	lis   *net.UnixListener
	token []byte
}

// listenDataPlane opens a Session's socket; nil when it cannot (the runs then stay
// on the stream).
func listenDataPlane() *dataPlaneListener {
	dir, err := os.MkdirTemp("", "sous-dp-")
	if err != nil {
		return nil
	}
	lis, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, "s"), Net: "unix"})
	if err != nil {
		os.RemoveAll(dir)
		return nil
	}
	lis.SetUnlinkOnClose(true)
	token := make([]byte, tokenLen)
	_, _ = rand.Read(token)
	return &dataPlaneListener{dir: dir, lis: lis, token: token}
}

// headers are the Session response headers that offer the data plane.
func (l *dataPlaneListener) headers() []string {
	return []string{dataPlaneHeader, l.lis.Addr().String(), dataPlaneTokenHeader, hex.EncodeToString(l.token)}
}

// accept waits for the host's two connections (until close), requests then events,
// and checks the token on each; the socket and its directory are gone once it
// returns.
func (l *dataPlaneListener) accept() (*frameConn, error) {
	defer l.close()
	_ = l.lis.SetDeadline(time.Now().Add(acceptTimeout))
	req, err := l.acceptOne()
	if err != nil {
		return nil, err
	}
	ev, err := l.acceptOne()
	if err != nil {
		req.Close()
		return nil, err
	}
	return newFrameConn(req, ev)
}

// acceptOne takes one connection presenting the token and answers it.
func (l *dataPlaneListener) acceptOne() (*net.UnixConn, error) {
	c, err := l.lis.AcceptUnix()
	if err != nil {
		return nil, err
	}
	got := make([]byte, tokenLen)
	_ = c.SetReadDeadline(time.Now().Add(acceptTimeout))
	if _, err := io.ReadFull(c, got); err != nil || subtle.ConstantTimeCompare(got, l.token) != 1 {
		c.Close()
		return nil, fmt.Errorf("data plane: bad token")
	}
	_ = c.SetReadDeadline(time.Time{})
	if _, err := c.Write([]byte{tokenOK}); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// close stops accepting and removes the socket and its directory. Idempotent.
func (l *dataPlaneListener) close() {
	l.lis.Close()
	os.RemoveAll(l.dir)
}

// dialDataPlane connects to the socket a Session offered, once for requests and
// once for events; nil when none was offered or it cannot be reached.
func dialDataPlane(path, token string) *frameConn {
	tok, err := hex.DecodeString(token)
	if path == "" || err != nil || len(tok) != tokenLen {
		return nil
	}
	req := dialOne(path, tok)
	if req == nil {
		return nil
	}
	ev := dialOne(path, tok)
	if ev == nil {
		req.Close()
		return nil
	}
	fc, err := newFrameConn(ev, req)
	if err != nil {
		return nil
	}
	return fc
}

// dialOne makes one connection and presents the token; nil when it is refused.
func dialOne(path string, tok []byte) *net.UnixConn {
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil
	}
	// The plugin's answer says it took the connection; until then no run is sent.
	var ok [1]byte
	_ = c.SetDeadline(time.Now().Add(acceptTimeout))
	if _, err := c.Write(tok); err != nil {
		c.Close()
		return nil
	}
	if _, err := io.ReadFull(c, ok[:]); err != nil || ok[0] != tokenOK {
		c.Close()
		return nil
	}
	_ = c.SetDeadline(time.Time{})
	return c
}
