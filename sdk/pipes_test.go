package sdk

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	executorpb "github.com/sous-run/sous/sdk/proto/executor"
)

// planePair connects a host end and a plugin end through a listener as a Session
// does; pipes is whether the host asked for pipes.
func planePair(t *testing.T, pipes bool) (host, plugin *frameConn) {
	t.Helper()
	l := listenDataPlane()
	if l == nil {
		t.Fatal("no data plane")
	}
	accepted := make(chan *frameConn, 1)
	go func() {
		fc, err := l.accept(pipes)
		if err != nil {
			t.Errorf("accept: %v", err)
		}
		accepted <- fc
	}()
	host = dialDataPlane(l.lis.Addr().String(), hex.EncodeToString(l.token))
	plugin = <-accepted
	if host == nil || plugin == nil {
		t.Fatal("the data plane did not connect")
	}
	t.Cleanup(func() { host.close(); plugin.close() })
	return host, plugin
}

// writeSide is the descriptor a frameConn writes to: its pipe or its socket.
func writeSide(t *testing.T, f *frameConn) int {
	t.Helper()
	sc, ok := f.files[len(f.files)-1].(syscall.Conn)
	if !ok {
		t.Fatalf("%T has no descriptor", f.files[len(f.files)-1])
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	_ = rc.Control(func(d uintptr) { fd = int(d) })
	return fd
}

// woken is how many events an epoll set that watches fd as Go's netpoller does
// (edge-triggered, in and out) reports after step: what would wake an idle process
// that had written on fd.
func woken(t *testing.T, fd int, step func()) int {
	t.Helper()
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ep)
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(fd)}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		t.Fatal(err)
	}
	out := make([]unix.EpollEvent, 4)
	_, _ = unix.EpollWait(ep, out, 0) // the edge of registering a writable descriptor
	step()
	n, err := unix.EpollWait(ep, out, 0)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAFrameReadWakesNoWriterOnPipes: on the pipes, the peer reading a frame tells
// the writer's epoll nothing, either way; on the socket (what a host that does not ask
// gets) every read says EPOLLOUT to the writer, the wake-up of an idle sender at each
// frame that the pipes remove.
func TestAFrameReadWakesNoWriterOnPipes(t *testing.T) {
	for _, pipes := range []bool{true, false} {
		host, plugin := planePair(t, pipes)
		hostSent := woken(t, writeSide(t, host), func() {
			if err := host.write(&executorpb.SessionRequest{Run: 1}); err != nil {
				t.Fatal(err)
			}
			if err := plugin.read(new(executorpb.SessionRequest)); err != nil {
				t.Fatal(err)
			}
		})
		pluginSent := woken(t, writeSide(t, plugin), func() {
			if err := plugin.write(&executorpb.SessionEvent{Run: 1}); err != nil {
				t.Fatal(err)
			}
			if err := host.read(new(executorpb.SessionEvent)); err != nil {
				t.Fatal(err)
			}
		})
		want := 0
		if !pipes {
			want = 1
		}
		if hostSent != want || pluginSent != want {
			t.Fatalf("pipes %v: the host's side had %d events after the plugin read, the plugin's %d after the host read; want %d", pipes, hostSent, pluginSent, want)
		}
	}
}

// TestTheHostGetsPipesOnlyWhenItAsks: a plugin passes pipes to a host that asked, and
// keeps a host that did not (one from before) on the socket; frames cross both.
func TestTheHostGetsPipesOnlyWhenItAsks(t *testing.T) {
	for _, pipes := range []bool{true, false} {
		host, plugin := planePair(t, pipes)
		for _, f := range []*frameConn{host, plugin} {
			_, onPipes := f.files[0].(*os.File)
			_, onSocket := f.files[0].(*net.UnixConn)
			if onPipes != pipes || onSocket == pipes {
				t.Fatalf("asked for pipes %v: the frames travel on %T", pipes, f.files[0])
			}
		}
		if err := host.write(&executorpb.SessionRequest{Run: 7}); err != nil {
			t.Fatal(err)
		}
		var req executorpb.SessionRequest
		if err := plugin.read(&req); err != nil || req.GetRun() != 7 {
			t.Fatalf("plugin read run %d, %v", req.GetRun(), err)
		}
	}
}

// TestASessionAsksForPipes: the SDK's host asks for pipes when it opens a Session, and
// its served plugin passes them.
func TestASessionAsksForPipes(t *testing.T) {
	f := &fakeExecutor{}
	x := configuredClient(t, serveExecutor(t, f, true).dial(t))
	runEchoes(t, f, x, 2)
	s, err := x.(*executorClient).session(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	plane, ok := s.plane()
	if !ok {
		t.Fatal("the session has no data plane")
	}
	if _, onPipes := plane.files[0].(*os.File); !onPipes {
		t.Fatalf("the session's frames travel on %T; want pipes", plane.files[0])
	}
}

// TestClosingOnePipeEndEndsTheOther: either side closing (or dying) ends the other's
// read, as the socket's close did; a read deadline cuts a read on the pipes.
func TestClosingOnePipeEndEndsTheOther(t *testing.T) {
	host, plugin := planePair(t, true)
	_ = host.setReadDeadline(time.Now().Add(20 * time.Millisecond))
	if err := host.read(new(executorpb.SessionEvent)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past its deadline: %v", err)
	}
	_ = host.setReadDeadline(time.Time{})
	plugin.close()
	if err := host.read(new(executorpb.SessionEvent)); !errors.Is(err, io.EOF) {
		t.Fatalf("host read after the plugin closed: %v", err)
	}
	host2, plugin2 := planePair(t, true)
	host2.close()
	if err := plugin2.read(new(executorpb.SessionRequest)); !errors.Is(err, io.EOF) {
		t.Fatalf("plugin read after the host closed: %v", err)
	}
}
