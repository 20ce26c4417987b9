package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Webhooks configures completion webhooks.
type Webhooks struct {
	// AllowCIDRs lists private, loopback or link-local ranges callbacks may reach
	// (refused by default), e.g. [10.0.0.0/8, 127.0.0.1/32].
	AllowCIDRs   []string      `koanf:"allow_cidrs"`
	Timeout      time.Duration `koanf:"timeout"`      // one delivery attempt
	MaxAge       time.Duration `koanf:"max_age"`      // retry for this long after the run ended
	BackoffBase  time.Duration `koanf:"backoff_base"` // first retry delay; doubles each attempt
	BackoffMax   time.Duration `koanf:"backoff_max"`  // longest retry delay
	MaxBodyBytes int           `koanf:"max_body_bytes"`
}

// validateWebhooks checks the webhooks.* values.
func (c *Config) validateWebhooks() []error {
	var errs []error
	for _, s := range c.Webhooks.AllowCIDRs {
		s = strings.TrimSpace(s)
		if _, err := netip.ParsePrefix(s); err != nil {
			if _, aerr := netip.ParseAddr(s); aerr != nil {
				errs = append(errs, fmt.Errorf("webhooks.allow_cidrs: %q is not a CIDR like 10.0.0.0/8 or an address (from %s)", s, c.Source("webhooks.allow_cidrs")))
			}
		}
	}
	for key, d := range map[string]time.Duration{"webhooks.timeout": c.Webhooks.Timeout, "webhooks.max_age": c.Webhooks.MaxAge,
		"webhooks.backoff_base": c.Webhooks.BackoffBase, "webhooks.backoff_max": c.Webhooks.BackoffMax} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be a duration above 0, e.g. 10s (from %s)", key, c.Source(key)))
		}
	}
	if c.Webhooks.MaxBodyBytes < 1024 {
		errs = append(errs, fmt.Errorf("webhooks.max_body_bytes: %d is too small; use at least 1024 (from %s)", c.Webhooks.MaxBodyBytes, c.Source("webhooks.max_body_bytes")))
	}
	return errs
}
