package driver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Config is the plugin's config subtree (plugins.messaging.codeq).
type Config struct {
	Embedded      bool     `json:"embedded"`       // start the embedded broker in this process
	ProducerAddr  string   `json:"producer_addr"`  // default 127.0.0.1:9092
	WorkerAddr    string   `json:"worker_addr"`    // default 127.0.0.1:9091
	HTTPAddr      string   `json:"http_addr"`      // REST host:port or URL, default 127.0.0.1:9093
	TLS           bool     `json:"tls"`            // TLS (system roots) on both streams
	ProducerToken string   `json:"producer_token"` // JWT with producer scope
	WorkerToken   string   `json:"worker_token"`   // JWT with worker scope
	AdminToken    string   `json:"admin_token"`    // token for /admin (queue stats): scope codeq:admin or role ADMIN
	JWTKey        string   `json:"jwt_key"`        // HS256 shared key: tokens are minted from it when not given
	Tenant        string   `json:"tenant"`         // tid of minted tokens, default "default"
	WorkerID      string   `json:"worker_id"`      // default: Subscribe.worker_id, else host-pid
	Commands      []string `json:"commands"`       // Stats covers these when a request names none
	LeaseSeconds  int32    `json:"lease_seconds"`  // default 30
	ReadyResend   Duration `json:"ready_resend"`   // default 25s
	MaxAttempts   int      `json:"max_attempts"`   // Sous deliveries of a task that sets none, default 5

	// Embedded broker only.
	DataDir        string   `json:"data_dir"`         // default <host_data_dir>/codeq
	BackoffBase    Duration `json:"backoff_base"`     // default 1s
	BackoffMax     Duration `json:"backoff_max"`      // default 60s
	ReadyHold      Duration `json:"ready_hold"`       // default 30s
	ResultTTL      Duration `json:"result_ttl"`       // default 24h
	JWKSURL        string   `json:"jwks_url"`         // accept RS256 tokens from this JWKS
	RS256PublicKey string   `json:"rs256_public_key"` // or this PEM key (text or file path)
}

// Duration is a time.Duration written as a Go duration string ("25s").
type Duration time.Duration

// UnmarshalJSON reads "1m30s" (or a number of seconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n float64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("duration %s: want a string like \"25s\"", b)
		}
		*d = Duration(n * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// DefaultCommands are the config's commands when it sets none.
var DefaultCommands = []string{"sous.run.bun", "sous.run.python"}

// ParseConfig decodes and validates the config subtree; hostDataDir anchors data_dir.
func ParseConfig(raw []byte, hostDataDir string) (*Config, error) {
	c := &Config{}
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(c); err != nil {
			return nil, fmt.Errorf("plugins.messaging.codeq: %w", err)
		}
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.ProducerAddr, "127.0.0.1:9092")
	def(&c.WorkerAddr, "127.0.0.1:9091")
	def(&c.HTTPAddr, "127.0.0.1:9093")
	def(&c.Tenant, "default")
	if len(c.Commands) == 0 {
		c.Commands = DefaultCommands
	}
	if c.LeaseSeconds <= 0 {
		c.LeaseSeconds = 30
	}
	if c.ReadyResend <= 0 {
		c.ReadyResend = Duration(25 * time.Second)
	}
	if c.Embedded {
		if c.DataDir == "" {
			if hostDataDir == "" {
				return nil, errors.New("plugins.messaging.codeq: embedded broker needs data_dir (or a host data dir)")
			}
			c.DataDir = filepath.Join(hostDataDir, "codeq")
		}
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("plugins.messaging.codeq.data_dir: %w", err)
		}
		if c.JWTKey == "" {
			k, err := loadOrCreateKey(filepath.Join(c.DataDir, "hs256.key"))
			if err != nil {
				return nil, fmt.Errorf("plugins.messaging.codeq.jwt_key: %w", err)
			}
			c.JWTKey = k
		}
	}
	if c.JWTKey == "" && c.ProducerToken == "" && c.WorkerToken == "" {
		return nil, errors.New("plugins.messaging.codeq: set producer_token and/or worker_token (JWTs issued by codeQ), or jwt_key to mint them")
	}
	return c, nil
}

func durationOf(d Duration) time.Duration { return time.Duration(d) }
