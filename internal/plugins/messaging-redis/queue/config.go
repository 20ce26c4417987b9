// Package queue is the reliable task queue of the messaging-redis plugin: Redis data
// structures and Lua scripts, with no gRPC in sight.
package queue

import (
	"fmt"
	"time"

	"github.com/sous-run/sous/internal/redisconn"
)

// Section is the config path of this driver, used in error messages.
const Section = "plugins.messaging.redis"

// Config is the driver's config subtree (plugins.messaging.redis).
type Config struct {
	redisconn.Conn
	ResultTTL       redisconn.Duration `json:"result_ttl"`        // how long Ack results / failures stay readable
	DeadTTL         redisconn.Duration `json:"dead_ttl"`          // how long dead-lettered tasks are kept
	IdempotencyTTL  redisconn.Duration `json:"idempotency_ttl"`   // how long an idempotency key maps to its task
	MaxAttempts     int                `json:"max_attempts"`      // default when a task says 0
	MaxPayloadBytes int                `json:"max_payload_bytes"` // larger payloads / results are refused
	Lease           redisconn.Duration `json:"lease"`             // default lease when Subscribe says 0
	BackoffBase     redisconn.Duration `json:"backoff_base"`      // first retry delay; doubles per attempt
	BackoffMax      redisconn.Duration `json:"backoff_max"`       // retry delay cap
	Batch           int                `json:"batch"`             // most tasks leased by one claim
}

// DefaultConfig returns the defaults documented in the README.
func DefaultConfig() Config {
	return Config{
		Conn:            redisconn.DefaultConn(),
		ResultTTL:       redisconn.Duration(24 * time.Hour),
		DeadTTL:         redisconn.Duration(7 * 24 * time.Hour),
		IdempotencyTTL:  redisconn.Duration(24 * time.Hour),
		MaxAttempts:     3,
		MaxPayloadBytes: 4 << 20, // gRPC's message size; leaves room over limits.max_input_bytes
		Lease:           redisconn.Duration(30 * time.Second),
		BackoffBase:     redisconn.Duration(time.Second),
		BackoffMax:      redisconn.Duration(5 * time.Minute),
		Batch:           64,
	}
}

// Validate checks every key; the error names the key and the fix.
func (c *Config) Validate() error {
	if err := c.Conn.Validate(Section); err != nil {
		return err
	}
	for k, d := range map[string]redisconn.Duration{"result_ttl": c.ResultTTL, "dead_ttl": c.DeadTTL,
		"idempotency_ttl": c.IdempotencyTTL, "lease": c.Lease, "backoff_base": c.BackoffBase, "backoff_max": c.BackoffMax} {
		if d.D() < time.Millisecond {
			return fmt.Errorf("%s.%s is %s: must be at least 1ms", Section, k, d.D())
		}
	}
	if c.MaxAttempts < 1 {
		return fmt.Errorf("%s.max_attempts is %d: must be at least 1", Section, c.MaxAttempts)
	}
	if c.MaxPayloadBytes < 1 {
		return fmt.Errorf("%s.max_payload_bytes is %d: must be at least 1", Section, c.MaxPayloadBytes)
	}
	if c.Batch < 1 {
		return fmt.Errorf("%s.batch is %d: must be at least 1", Section, c.Batch)
	}
	return nil
}
