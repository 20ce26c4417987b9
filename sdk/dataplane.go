package sdk

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/sous-run/sous/internal/rawio"
	executorpb "github.com/sous-run/sous/sdk/proto/executor"
)

// The executor data plane: a Session's runs carried beside gRPC, on a Unix socket or
// the pipes passed over it (pipes.go), as the same SessionRequest / SessionEvent
// messages in length-prefixed frames (a 4-byte big-endian length, then the message),
// one write per frame. It skips HTTP/2 framing, flow control and the transport's
// writer and reader goroutines, which cost more than the warm run they carry.
//
// The plugin offers it in the Session's response headers (the socket path and a
// one-time token); the host dials, sends the token, and from then on the Session
// stream only ties the two lifetimes together (either ending ends the other). A
// plugin that offers none, or a socket the host cannot reach (a plugin over TCP),
// leaves the runs on the Session stream.
//
// The same mechanism (serveOffering, awaitOffer) carries messaging's and events' calls
// (Calls: Call / CallReply frames) and a Consume stream's credits and deliveries.
const (
	dataPlaneHeader      = "sous-dataplane"       // the socket's path
	dataPlaneTokenHeader = "sous-dataplane-token" // what the host sends first, hex
	tokenLen             = 32
	tokenOK              = 'k'     // the plugin's answer to a good token
	maxFrame             = 1 << 30 // a sanity bound: both ends are trusted
	acceptTimeout        = 10 * time.Second
)

// frameConn reads and writes frames on one connection, or on the pair of pipes the
// plugin passed over it (pipes.go). Writers are serialized by the caller (as a gRPC
// stream's Send is); one goroutine reads. It waits in the Go netpoller. Blocking
// reads on a blocking file were tried: a reader then holds its thread, and its P until
// the runtime takes it back, in a system call at every wait between runs on both
// ends, and in alternating runs 32 clients made 17–31 % fewer invocations/s that way.
// The reads and writes themselves are raw system calls (rawio): through net they
// woke the runtime's monitor thread in an idle process at every frame.
type frameConn struct {
	in     deadlineReader // what frames are read from
	out    io.Writer      // what frames are written to
	files  []io.Closer    // what close closes
	closed sync.Once
	r      *bufio.Reader
	rbuf   []byte
	wbuf   []byte
}

// deadlineReader is a connection's or a pipe's read side.
type deadlineReader interface {
	io.Reader
	SetReadDeadline(time.Time) error
}

// readEnd and writeEnd are what a frameConn reads and writes: *net.UnixConn, *os.File.
type readEnd interface {
	rawio.Conn
	deadlineReader
}

type writeEnd interface {
	rawio.Conn
	io.Writer
}

// newFrameConn carries frames both ways on one Unix connection.
func newFrameConn(c *net.UnixConn) *frameConn {
	return newFrameConnOn(c, c, c)
}

// newFrameConnOn reads frames from in and writes them to out, raw where they allow
// it; close closes files.
func newFrameConnOn(in readEnd, out writeEnd, files ...io.Closer) *frameConn {
	f := &frameConn{in: in, out: out, files: files}
	if fd, err := rawio.New(in); err == nil {
		f.r = bufio.NewReaderSize(fd, 64<<10)
	} else {
		f.r = bufio.NewReaderSize(f.in, 64<<10)
	}
	if fd, err := rawio.New(out); err == nil {
		f.out = fd
	}
	return f
}

// close ends the connection; a read blocked on it returns. Idempotent.
func (f *frameConn) close() {
	f.closed.Do(func() {
		for _, c := range f.files {
			c.Close()
		}
	})
}

// setReadDeadline sets the deadline of the reads (os.ErrDeadlineExceeded after it).
func (f *frameConn) setReadDeadline(t time.Time) error { return f.in.SetReadDeadline(t) }

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

// read reads one frame into m. A frame that fits the read buffer is decoded in place
// and consumed whole, so a read cut by a deadline (the host's runs read this way,
// clientSession.lead) loses nothing and the next read resumes it. A larger frame is
// read to its end whatever the deadline: cut, it would leave the stream mid-frame.
func (f *frameConn) read(m proto.Message) error {
	h, err := f.r.Peek(4)
	if err != nil {
		return err
	}
	n := int(binary.BigEndian.Uint32(h))
	if n > maxFrame {
		return fmt.Errorf("data plane: a frame of %d bytes", n)
	}
	if 4+n <= f.r.Size() {
		b, err := f.r.Peek(4 + n)
		if err != nil {
			return err
		}
		err = proto.Unmarshal(b[4:], m) // bytes fields are copied out of b
		_, _ = f.r.Discard(4 + n)
		return err
	}
	_, _ = f.r.Discard(4)
	if cap(f.rbuf) < n {
		f.rbuf = make([]byte, n)
	}
	b := f.rbuf[:n]
	for got := 0; got < n; {
		k, err := f.r.Read(b[got:])
		got += k
		if errors.Is(err, os.ErrDeadlineExceeded) {
			_ = f.setReadDeadline(time.Time{})
		} else if err != nil {
			return err
		}
	}
	err = proto.Unmarshal(b, m)
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
	m, err := f.next()
	if err != nil {
		return nil, brokenPlane(err)
	}
	return m, nil
}

// next is Recv with the connection's own error: a read deadline's, which cuts no frame.
func (f hostFrames) next() (*executorpb.SessionEvent, error) {
	m := new(executorpb.SessionEvent)
	return m, f.read(m)
}

// brokenPlane is the run error of a data plane that failed with err.
func brokenPlane(err error) error {
	return status.Errorf(codes.Unavailable, "executor data plane: %v", err)
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

// accept waits for the host's connection (until close) and checks its token; the
// socket and its directory are gone once it returns. With pipes (the host asked for
// them) the frames travel on pipes passed over the connection, else on it.
func (l *dataPlaneListener) accept(pipes bool) (*frameConn, error) {
	defer l.close()
	_ = l.lis.SetDeadline(time.Now().Add(acceptTimeout))
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
	if pipes {
		fc, err := passPipes(c)
		if !errors.Is(err, errNoPipes) {
			return fc, err
		}
	}
	if _, err := c.Write([]byte{tokenOK}); err != nil {
		c.Close()
		return nil, err
	}
	return newFrameConn(c), nil
}

// close stops accepting and removes the socket and its directory. Idempotent.
func (l *dataPlaneListener) close() {
	l.lis.Close()
	os.RemoveAll(l.dir)
}

// dialDataPlane connects to the socket a Session offered; nil when none was offered
// or it cannot be reached.
func dialDataPlane(path, token string) *frameConn {
	tok, err := hex.DecodeString(token)
	if path == "" || err != nil || len(tok) != tokenLen {
		return nil
	}
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil
	}
	// The plugin's answer says it took the connection; until then no run is sent.
	_ = c.SetDeadline(time.Now().Add(acceptTimeout))
	if _, err := c.Write(tok); err != nil {
		c.Close()
		return nil
	}
	return takeAnswer(c)
}

// errUnserved: the plugin answered a stream that offers a data plane with
// Unimplemented (a plugin built before it).
var errUnserved = errors.New("the plugin does not serve this stream")

// awaitOffer waits for the headers of a stream served by serveOffering and connects
// to the data plane they offer: nil when none was offered or it cannot be reached
// (the stream then carries the traffic). Without the header the stream has ended:
// errUnserved when the plugin answered Unimplemented, else recv's error (recv reads
// the stream and wraps its end).
func awaitOffer(ctx context.Context, st grpc.ClientStream, header string, recv func() error) (*frameConn, error) {
	headers := make(chan metadata.MD, 1)
	go func() {
		md, _ := st.Header()
		headers <- md
	}()
	var md metadata.MD
	select {
	case md = <-headers:
	case <-ctx.Done():
		return nil, contextError(ctx)
	case <-time.After(acceptTimeout):
		return nil, status.Errorf(codes.Unavailable, "the plugin sent no %s headers in %v", header, acceptTimeout)
	}
	if len(md.Get(header)) == 0 {
		err := recv()
		if status.Code(err) == codes.Unimplemented {
			return nil, errUnserved
		}
		return nil, err
	}
	return dialDataPlane(first(md.Get(dataPlaneHeader)), first(md.Get(dataPlaneTokenHeader))), nil
}
