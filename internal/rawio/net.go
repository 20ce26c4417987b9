package rawio

import (
	"context"
	"net"
)

// conn is a connection whose Read and Write are raw; the rest is the connection's. It
// has no SyscallConn: what a caller would do with it would go through the runtime
// (go-redis peeks at every pooled connection it takes that way, one system call per
// command; without it a connection the server closed fails its next command, which
// go-redis retries on a new one).
type conn struct {
	net.Conn
	fd *FD
}

func (c *conn) Read(b []byte) (int, error)  { return c.fd.Read(b) }
func (c *conn) Write(b []byte) (int, error) { return c.fd.Write(b) }

// CloseWrite half-closes the connection, as net/http's server does before it closes
// one whose request it refused (so the client reads the answer, not a reset).
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// WrapConn is c with raw reads and writes, or c itself when its descriptor cannot be
// had (a TLS connection, a pipe from net.Pipe).
func WrapConn(c net.Conn) net.Conn {
	sc, ok := c.(Conn)
	if !ok {
		return c
	}
	fd, err := New(sc)
	if err != nil {
		return c
	}
	return &conn{Conn: c, fd: fd}
}

// listener accepts connections wrapped by WrapConn.
type listener struct{ net.Listener }

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return WrapConn(c), nil
}

// Listen is ln whose connections read and write raw.
func Listen(ln net.Listener) net.Listener { return listener{ln} }

// Dial is d.DialContext whose connections are wrapped by WrapConn.
func Dial(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return WrapConn(c), nil
	}
}
