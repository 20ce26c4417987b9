package server

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/sous-run/sous/internal/host/config"
)

// Endpoints lists every outside address the configured drivers use, one
// "kind driver: what" line each (e.g. "messaging redis: redis 127.0.0.1:6379 db 0"),
// so a host's banner shows which Redis or broker it talks to. Passwords are never shown.
func Endpoints(cfg *config.Config) []string {
	var out []string
	add := func(kind, driver string) {
		sub, _ := cfg.Get("plugins." + kind + "." + driver).(map[string]any)
		keys := make([]string, 0, len(sub))
		for k := range sub {
			if k == "url" || strings.HasSuffix(k, "_url") || strings.HasSuffix(k, "_addr") || k == "addr" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			if v, ok := sub[k].(string); ok && v != "" {
				parts = append(parts, k+" "+describeURL(v))
			}
		}
		name := kind + " " + driver
		if embedded, _ := sub["embedded"].(bool); embedded {
			name += " (embedded broker in this host)"
		}
		if len(parts) > 0 {
			out = append(out, fmt.Sprintf("%s: %s", name, strings.Join(parts, ", ")))
		}
	}
	add("messaging", cfg.Plugins.Messaging.Driver)
	if !config.IsHostDriver("events", cfg.Plugins.Events.Driver) {
		add("events", cfg.Plugins.Events.Driver)
	}
	if cfg.Role == "worker" && cfg.Worker.ControlURL != "" {
		out = append(out, "control API: "+cfg.Worker.ControlURL)
	}
	return out
}

// describeURL renders a redis:// URL as "redis://host:port db N" without the
// password; other values are returned as they are, credentials stripped.
func describeURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return v
	}
	u.User = nil
	if u.Scheme == "redis" || u.Scheme == "rediss" {
		db := strings.TrimPrefix(u.Path, "/")
		if db == "" {
			db = "0"
		}
		return u.Scheme + "://" + u.Host + " db " + db
	}
	return u.Redacted()
}
