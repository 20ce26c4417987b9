package sdk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/metadata"
)

// A data plane's frames travel on a pair of pipes the plugin passes over the Unix
// connection (SCM_RIGHTS) once the token is checked, when the host asks for them.
//
// Why: a Unix socket tells its writer's epoll that there is room again each time the
// peer reads (EPOLLOUT at every read), and Go registers every descriptor for it. So
// every frame woke the netpoller thread of the process that sent it, idle by then: a
// wake-up on the other CPU per frame, which on a guest that halts idle CPUs is tens of
// µs, and it delayed whatever the other CPU was about to run (the function). A pipe
// tells its writer only when it was full.
//
// The host asks with a request header on the stream (pipesHeader); a plugin that
// knows it answers the token with tokenPipes and the two descriptors instead of
// tokenOK. A host or a plugin from before keeps to the socket.
const (
	pipesHeader = "sous-dataplane-pipes" // the host's request, "1"
	tokenPipes  = 'p'                    // the plugin's answer that carries the pipes
	pipeSize    = 256 << 10              // asked of each pipe (Linux's default is 64 KiB)
)

// askPipes is ctx with the host's request for pipes, for opening an offering stream.
func askPipes(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, pipesHeader, "1")
}

// wantsPipes reports whether the host that opened the stream of ctx asked for pipes.
func wantsPipes(ctx context.Context) bool {
	md, _ := metadata.FromIncomingContext(ctx)
	return first(md.Get(pipesHeader)) == "1"
}

// passPipes answers a checked token on c with the host's ends of two new pipes and
// returns the plugin's frameConn on the other ends; c is closed once they are sent.
// errNoPipes when none could be made (nothing was written: the socket still serves).
func passPipes(c *net.UnixConn) (*frameConn, error) {
	var toPlugin, toHost [2]int
	if err := unix.Pipe2(toPlugin[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, errNoPipes
	}
	if err := unix.Pipe2(toHost[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		closeFDs(toPlugin[:]...)
		return nil, errNoPipes
	}
	for _, fd := range []int{toPlugin[1], toHost[1]} {
		_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, pipeSize) // best effort
	}
	_, _, err := c.WriteMsgUnix([]byte{tokenPipes}, unix.UnixRights(toPlugin[1], toHost[0]), nil)
	closeFDs(toPlugin[1], toHost[0])
	c.Close()
	if err != nil {
		closeFDs(toPlugin[0], toHost[1])
		return nil, fmt.Errorf("data plane: pass pipes: %w", err)
	}
	in, out := os.NewFile(uintptr(toPlugin[0]), "data plane in"), os.NewFile(uintptr(toHost[1]), "data plane out")
	return newFrameConnOn(in, out, in, out), nil
}

var errNoPipes = errors.New("data plane: no pipes")

// takeAnswer reads the plugin's answer to the token: the socket itself carries the
// frames (tokenOK), or the pipes the answer carries (tokenPipes); nil for anything else.
func takeAnswer(c *net.UnixConn) *frameConn {
	var b [1]byte
	oob := make([]byte, unix.CmsgSpace(2*4))
	n, oobn, _, _, err := c.ReadMsgUnix(b[:], oob)
	fds := rightsIn(oob[:oobn])
	switch {
	case err == nil && n == 1 && b[0] == tokenOK && len(fds) == 0:
		_ = c.SetDeadline(time.Time{})
		return newFrameConn(c)
	case err == nil && n == 1 && b[0] == tokenPipes && len(fds) == 2 && isPipe(fds[0]) && isPipe(fds[1]):
		c.Close()
		for _, fd := range fds {
			syscall.CloseOnExec(fd)
			_ = unix.SetNonblock(fd, true) // as passed; the netpoller and rawio need it
		}
		out, in := os.NewFile(uintptr(fds[0]), "data plane out"), os.NewFile(uintptr(fds[1]), "data plane in")
		return newFrameConnOn(in, out, in, out)
	}
	closeFDs(fds...)
	c.Close()
	return nil
}

// rightsIn is the descriptors an SCM_RIGHTS control message carries.
func rightsIn(oob []byte) []int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var fds []int
	for _, m := range msgs {
		if got, err := unix.ParseUnixRights(&m); err == nil {
			fds = append(fds, got...)
		}
	}
	return fds
}

// isPipe reports whether fd is a pipe: what the plugin passes, and nothing else.
func isPipe(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO
}

func closeFDs(fds ...int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
