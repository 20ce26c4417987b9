package redisconn

import (
	"context"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/sdk"
)

// Plugin is the sdk.Base of a Redis plugin: Configure parses the config subtree, dials
// Redis and swaps in the value built over the new clients (a queue, an event log);
// Health pings Redis. A driver embeds it and adds the calls of its kind.
type Plugin[T any] struct {
	Holder[T]
	Log     hclog.Logger
	info    sdk.Info
	section string
	setup   Setup[T]
}

// Setup parses a config subtree (with Parse, over the driver's defaults) and returns
// the connection settings and how to build the driver's value over the clients.
type Setup[T any] func(raw []byte) (*Conn, func(*Clients) T, error)

// NewPlugin returns an unconfigured plugin whose config lives at section.
func NewPlugin[T any](info sdk.Info, section string, log hclog.Logger, setup Setup[T]) *Plugin[T] {
	return &Plugin[T]{Log: log, info: info, section: section, setup: setup}
}

// Info says what the plugin is.
func (p *Plugin[T]) Info() sdk.Info { return p.info }

// Configure applies the config subtree: a bad one is sdk.ErrInvalid; an unreachable
// server is any other error, which the SDK reports as unavailable.
func (p *Plugin[T]) Configure(ctx context.Context, c sdk.Config) error {
	conn, build, err := p.setup(c.JSON)
	if err != nil {
		return err
	}
	return p.Connect(ctx, p.section, conn, p.Log, build)
}

// Current returns the value the last successful Configure built; the SDK calls
// nothing but Base before the first one.
func (p *Plugin[T]) Current() T {
	v, _ := p.Get()
	return v
}
