// Package stream is the per-invocation event log of the events-redisstream plugin: one
// Redis Stream per invocation, appended with XADD and followed with XREAD BLOCK.
package stream

import (
	"fmt"
	"time"

	"github.com/sous-run/sous/internal/redisconn"
)

// Section is the config path of this driver, used in error messages.
const Section = "plugins.events.redisstream"

// Config is the driver's config subtree (plugins.events.redisstream).
type Config struct {
	redisconn.Conn
	TTL              redisconn.Duration `json:"ttl"`                // key TTL, refreshed on every Publish
	MaxLen           int64              `json:"max_len"`            // XADD MAXLEN ~ bound per invocation
	Block            redisconn.Duration `json:"block"`              // one XREAD BLOCK wait
	MaxEnvelopeBytes int                `json:"max_envelope_bytes"` // larger envelopes are refused
}

// DefaultConfig returns the defaults documented in the README.
func DefaultConfig() Config {
	return Config{
		Conn:             redisconn.DefaultConn(),
		TTL:              redisconn.Duration(5 * time.Minute),
		MaxLen:           10000,
		Block:            redisconn.Duration(2 * time.Second),
		MaxEnvelopeBytes: 4<<20 - 64<<10, // over limits.max_result_bytes (3 MiB) + the envelope; under gRPC's 4 MiB
	}
}

// Validate checks every key; the error names the key and the fix.
func (c *Config) Validate() error {
	if err := c.Conn.Validate(Section); err != nil {
		return err
	}
	if c.TTL.D() < time.Second {
		return fmt.Errorf("%s.ttl is %s: must be at least 1s", Section, c.TTL.D())
	}
	if c.MaxLen < 1 {
		return fmt.Errorf("%s.max_len is %d: must be at least 1", Section, c.MaxLen)
	}
	if c.Block.D() < 10*time.Millisecond {
		return fmt.Errorf("%s.block is %s: must be at least 10ms", Section, c.Block.D())
	}
	if c.MaxEnvelopeBytes < 1 {
		return fmt.Errorf("%s.max_envelope_bytes is %d: must be at least 1", Section, c.MaxEnvelopeBytes)
	}
	return nil
}
