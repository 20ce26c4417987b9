package client

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/sous-run/sous/internal/rawio"
)

// transport is the one New's clients share.
var transport = NewTransport()

// NewTransport is http.DefaultTransport's settings with connections that read and
// write raw (rawio): a caller that waits for each answer wakes from idle at every
// one, and through the runtime every read and write woke its monitor thread too.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return rawio.WrapConn(c), nil
	}
	return t
}
