package broker

import (
	"time"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/token"
)

// Config is the embedded broker's configuration; zero fields take the defaults below.
type Config struct {
	DataDir      string // Pebble directory (required)
	ProducerAddr string // producer stream, default 127.0.0.1:9092
	WorkerAddr   string // worker stream, default 127.0.0.1:9091
	HTTPAddr     string // REST (results, queue stats, /healthz), default 127.0.0.1:9093
	Verifier     *token.Verifier
	MaxAttempts  int           // default 5
	DefaultLease time.Duration // lease when Ready.lease_seconds <= 0, default 30s
	BackoffBase  time.Duration // Nack backoff: base * 2^(attempts-1), default 1s
	BackoffMax   time.Duration // default 60s
	ReadyHold    time.Duration // a Ready with no task is dropped after this, default 30s (as codeQ)
	ResultTTL    time.Duration // finished tasks are kept this long, default 24h
	ReapInterval time.Duration // default 100ms
}

func (c *Config) defaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	defD := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.ProducerAddr, "127.0.0.1:9092")
	def(&c.WorkerAddr, "127.0.0.1:9091")
	def(&c.HTTPAddr, "127.0.0.1:9093")
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	defD(&c.DefaultLease, 30*time.Second)
	defD(&c.BackoffBase, time.Second)
	defD(&c.BackoffMax, time.Minute)
	defD(&c.ReadyHold, 30*time.Second)
	defD(&c.ResultTTL, 24*time.Hour)
	defD(&c.ReapInterval, 100*time.Millisecond)
}
