package redisconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/sous-run/sous/internal/rawio"
)

// Options turns the settings into go-redis options; a malformed URL is reported with
// the shape expected. poolSize overrides PoolSize when positive (blocking readers).
func (c *Conn) Options(section string, poolSize int) (*redis.Options, error) {
	o, err := redis.ParseURL(c.URL)
	if err != nil {
		return nil, fmt.Errorf("%s.url %q is not a Redis URL (%v): use redis://[user:password@]host:port/db", section, c.URL, err)
	}
	if c.Username != "" {
		o.Username = c.Username
	}
	if c.Password != "" {
		o.Password = c.Password
	}
	o.PoolSize = c.PoolSize
	if poolSize > 0 {
		o.PoolSize = poolSize
	}
	o.DialTimeout = c.DialTimeout.D()
	o.ReadTimeout = c.ReadTimeout.D()
	o.WriteTimeout = c.WriteTimeout.D()
	o.PoolTimeout = c.ReadTimeout.D() + time.Second
	o.MaxRetries = 2
	o.DisableIdentity = true
	o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	if o.TLSConfig == nil { // go-redis's own dialer does TLS
		// Plain TCP connections whose reads and writes are raw system calls (rawio):
		// every command is a write and a read, and through the runtime each woke the
		// plugin's idle monitor thread. Keep-alives as go-redis's own dialer's.
		o.Dialer = rawio.Dial(&net.Dialer{Timeout: o.DialTimeout,
			KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 30 * time.Second, Interval: 5 * time.Second, Count: 3}})
	}
	return o, nil
}

// Open builds a client and pings it, so a wrong password or an unreachable server is
// reported now with what to fix.
func Open(ctx context.Context, section string, o *redis.Options) (*redis.Client, error) {
	cl := redis.NewClient(o)
	if err := Ping(ctx, cl); err != nil {
		_ = cl.Close()
		return nil, fmt.Errorf("%s: %w", section, err)
	}
	return cl, nil
}

// Ping checks the server answers; the error explains the likely cause.
func Ping(ctx context.Context, cl *redis.Client) error {
	ctx, cancel := context.WithTimeout(ctx, cl.Options().DialTimeout+time.Second)
	defer cancel()
	err := cl.Ping(ctx).Err()
	if err == nil {
		return nil
	}
	addr := cl.Options().Addr
	msg := err.Error()
	switch {
	case strings.Contains(msg, "WRONGPASS"), strings.Contains(msg, "invalid password"),
		strings.Contains(msg, "invalid username-password"):
		return fmt.Errorf("redis at %s refused the credentials (%v): check password/username", addr, err)
	case strings.Contains(msg, "NOAUTH"), strings.Contains(msg, "without any password configured"):
		return fmt.Errorf("redis at %s and the configured password disagree (%v): check password", addr, err)
	case IsConnErr(err):
		return fmt.Errorf("redis at %s is unreachable (%v): check url and that redis-server is running", addr, err)
	}
	return fmt.Errorf("redis at %s: ping: %w", addr, err)
}

// IsConnErr reports whether err is a connection-level failure (server down, restarting,
// loading its data, connection reset) after which the same command may succeed later.
func IsConnErr(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, redis.ErrClosed) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"LOADING", "connection refused", "connection reset", "broken pipe", "i/o timeout", "pool timeout", "TRYAGAIN", "MASTERDOWN"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// Clients is the pair of clients a Redis plugin uses: Cmd for ordinary commands and
// Block for blocking reads (BLPOP, XREAD BLOCK), so readers parked on an empty queue or
// stream never take the connections that writers need.
type Clients struct {
	Cmd   *redis.Client
	Block *redis.Client
}

// Dial validates the settings and opens both clients, pinging each.
func (c *Conn) Dial(ctx context.Context, section string) (*Clients, error) {
	if err := c.Validate(section); err != nil {
		return nil, configError(err)
	}
	o, err := c.Options(section, 0)
	if err != nil {
		return nil, configError(err)
	}
	cmd, err := Open(ctx, section, o)
	if err != nil {
		if strings.Contains(err.Error(), "credentials") || strings.Contains(err.Error(), "password") {
			return nil, configError(err)
		}
		return nil, err
	}
	bo, _ := c.Options(section, c.BlockingPool)
	bo.MinIdleConns = 0
	bo.MaxIdleConns = 64
	bo.ConnMaxIdleTime = time.Minute
	return &Clients{Cmd: cmd, Block: redis.NewClient(bo)}, nil
}

// Close closes both clients.
func (cs *Clients) Close() error {
	if cs == nil {
		return nil
	}
	err := cs.Cmd.Close()
	if e := cs.Block.Close(); err == nil {
		err = e
	}
	return err
}

// NotApplied reports whether err means Redis did not run the command at all (the
// server refused the connection, is loading its data, or aborted a transaction), so
// that even a command which is not idempotent may be sent again.
func NotApplied(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"LOADING", "EXECABORT", "connection refused", "pool timeout"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
