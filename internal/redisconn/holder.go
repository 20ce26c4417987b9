package redisconn

import (
	"context"
	"errors"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/sdk"
)

// Holder keeps a plugin's current clients and the driver value built over them
// (a queue, an event log), swapped as a whole by each successful Configure.
type Holder[T any] struct {
	mu  sync.RWMutex
	v   T
	cl  *Clients
	set bool
}

// Connect dials conn and, on success, replaces the held value with build(clients),
// closing the previous clients.
func (h *Holder[T]) Connect(ctx context.Context, section string, conn *Conn, log hclog.Logger, build func(*Clients) T) error {
	cl, err := conn.Dial(ctx, section)
	if err != nil {
		return err
	}
	h.mu.Lock()
	old := h.cl
	h.v, h.cl, h.set = build(cl), cl, true
	h.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	log.Info("configured", "addr", cl.Cmd.Options().Addr, "prefix", conn.Prefix)
	return nil
}

// Get returns the held value; false before the first successful Connect.
func (h *Holder[T]) Get() (T, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.v, h.set
}

// Ping probes Redis through the held clients.
func (h *Holder[T]) Ping(ctx context.Context) error {
	h.mu.RLock()
	cl := h.cl
	h.mu.RUnlock()
	if cl == nil {
		return errors.New("not configured")
	}
	return Ping(ctx, cl.Cmd)
}

// Health pings Redis: unhealthy with the reason while it is down or refuses us.
func (h *Holder[T]) Health(ctx context.Context) sdk.Health {
	if err := h.Ping(ctx); err != nil {
		return sdk.Health{Healthy: false, Reason: err.Error()}
	}
	return sdk.Health{Healthy: true}
}

// Parse decodes a config subtree over the defaults already in v and validates it; any
// error is a config error (sdk.ErrInvalid).
func Parse(section string, raw []byte, v interface{ Validate() error }) error {
	if err := Decode(section, raw, v); err != nil {
		return configError(err)
	}
	if err := v.Validate(); err != nil {
		return configError(err)
	}
	return nil
}
