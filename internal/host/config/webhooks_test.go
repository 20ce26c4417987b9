package config

import (
	"strings"
	"testing"
	"time"
)

func TestWebhookKeys(t *testing.T) {
	c, err := Load(Sources{Env: []string{"SOUS_WEBHOOKS__ALLOW_CIDRS=10.0.0.0/8, 127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Webhooks.AllowCIDRs) != 2 || c.Webhooks.AllowCIDRs[1] != "127.0.0.1" || c.Webhooks.Timeout != 10*time.Second ||
		c.Webhooks.MaxAge != 24*time.Hour || c.Webhooks.MaxBodyBytes != 262144 {
		t.Fatalf("webhooks %+v", c.Webhooks)
	}
	for kv, want := range map[string]string{
		"webhooks.allow_cidrs=10.0.0.0/33": `webhooks.allow_cidrs: "10.0.0.0/33" is not a CIDR`,
		"webhooks.timeout=soon":            "webhooks.timeout",
		"webhooks.max_body_bytes=10":       "webhooks.max_body_bytes: 10 is too small",
	} {
		k, v, _ := strings.Cut(kv, "=")
		if _, err := Load(Sources{Overrides: map[string]string{k: v}}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error containing %q", kv, err, want)
		}
	}
}
