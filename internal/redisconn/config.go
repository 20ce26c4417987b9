package redisconn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Conn is the connection part of a Redis plugin's config subtree.
type Conn struct {
	URL          string   `json:"url"`                // redis://[user:pass@]host:port/db or rediss://…
	Username     string   `json:"username"`           // overrides the URL's user
	Password     string   `json:"password"`           // overrides the URL's password
	Prefix       string   `json:"prefix"`             // every key starts with "<prefix>:"
	PoolSize     int      `json:"pool_size"`          // connections for ordinary commands
	BlockingPool int      `json:"blocking_pool_size"` // connections for blocking reads (one per waiting reader)
	DialTimeout  Duration `json:"dial_timeout"`       // per connection attempt
	ReadTimeout  Duration `json:"read_timeout"`       // per command (blocking commands add their block time)
	WriteTimeout Duration `json:"write_timeout"`      // per command
	OpRetry      Duration `json:"op_retry"`           // how long a call that is safe to repeat retries through an outage
}

// DefaultConn returns the connection defaults.
func DefaultConn() Conn {
	return Conn{
		URL:          "redis://127.0.0.1:6379/0",
		Prefix:       "sous",
		PoolSize:     32,
		BlockingPool: 1024,
		DialTimeout:  Duration(3 * time.Second),
		ReadTimeout:  Duration(3 * time.Second),
		WriteTimeout: Duration(3 * time.Second),
		OpRetry:      Duration(30 * time.Second),
	}
}

// Validate checks the connection settings; errors name the config key to fix.
func (c *Conn) Validate(section string) error {
	if strings.TrimSpace(c.URL) == "" {
		return fmt.Errorf("%s.url is empty: set it to redis://host:port/db", section)
	}
	if err := CheckSegment("prefix", c.Prefix); err != nil {
		return fmt.Errorf("%s.prefix: %w", section, err)
	}
	if c.PoolSize <= 0 {
		return fmt.Errorf("%s.pool_size is %d: must be at least 1", section, c.PoolSize)
	}
	if c.BlockingPool <= 0 {
		return fmt.Errorf("%s.blocking_pool_size is %d: must be at least 1", section, c.BlockingPool)
	}
	for k, d := range map[string]Duration{"dial_timeout": c.DialTimeout, "read_timeout": c.ReadTimeout, "write_timeout": c.WriteTimeout} {
		if d <= 0 {
			return fmt.Errorf("%s.%s is %s: must be positive", section, k, d.D())
		}
	}
	if c.OpRetry < 0 {
		return fmt.Errorf("%s.op_retry is %s: must not be negative", section, c.OpRetry.D())
	}
	return nil
}

// Decode parses a config subtree into v (which holds its defaults already), refusing
// unknown keys so that a typo is reported instead of silently ignored.
func Decode(section string, raw []byte, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", section, err)
	}
	return nil
}
