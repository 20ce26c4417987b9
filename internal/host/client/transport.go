package client

import (
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
	t.DialContext = rawio.Dial(&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second})
	return t
}
