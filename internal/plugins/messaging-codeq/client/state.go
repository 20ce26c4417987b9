// Package client speaks codeQ's protocol as a client: the producer stream (pipelined,
// batched CreateTask acked by seq), the worker stream (Ready with credits, re-sent before
// codeQ drops it, Result/Nack/Heartbeat/Abandon) and the REST reads (results, queue stats).
// Each stream reconnects with backoff and reports why it is down meanwhile.
package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// TokenFunc returns the bearer token for the next Hello (called on every connect, so a
// minted or refreshed token is picked up).
type TokenFunc func() (string, error)

// Dial opens a gRPC connection to addr (TLS with system roots when useTLS).
func Dial(addr string, useTLS bool) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if useTLS {
		creds = credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})
	}
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, fmt.Errorf("dial codeq %s: %w", addr, err)
	}
	return cc, nil
}

// link is the up/down state of one stream, with a channel closed while it is up.
type link struct {
	mu     sync.Mutex
	up     bool
	reason string
	upCh   chan struct{}
	tenant string
	denied bool // the server refused the token: callers fail at once instead of waiting
}

func newLink(what string) *link {
	return &link{reason: what + " stream not connected yet", upCh: make(chan struct{})}
}

func (l *link) setUp(tenant string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.up {
		l.up, l.reason, l.tenant, l.denied = true, "", tenant, false
		close(l.upCh)
	}
}

func (l *link) setDown(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.up {
		l.upCh = make(chan struct{})
	}
	l.up, l.reason = false, err.Error()
	switch status.Code(errors.Unwrap(err)) {
	case codes.Unauthenticated, codes.PermissionDenied, codes.FailedPrecondition:
		l.denied = true
	default:
		l.denied = false
	}
}

// State reports whether the stream is up and, if not, why.
func (l *link) State() (up bool, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.up, l.reason
}

// Tenant is the tenant codeQ resolved from the token (empty before the first Hello).
func (l *link) Tenant() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tenant
}

// Wait blocks until the stream is up or ctx ends.
func (l *link) Wait(ctx context.Context) error {
	l.mu.Lock()
	ch, reason, denied := l.upCh, l.reason, l.denied
	l.mu.Unlock()
	if denied {
		return fmt.Errorf("codeq unavailable: %s", reason)
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("codeq unavailable (%s): %w", reason, ctx.Err())
	}
}

// backoff grows 100 ms → 5 s between reconnects.
type backoff struct{ d time.Duration }

func (b *backoff) next() time.Duration {
	b.d = min(max(b.d*2, 100*time.Millisecond), 5*time.Second)
	return b.d
}

func (b *backoff) reset() { b.d = 0 }

// sleep waits d or until done closes; false when done.
func sleep(done <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return false
	case <-t.C:
		return true
	}
}

// streamCtx returns a context for one stream session, cancelled when done closes.
func streamCtx(done <-chan struct{}) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-done:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
