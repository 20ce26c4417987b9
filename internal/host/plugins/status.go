package plugins

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/sous-run/sous/sdk"
)

// Status describes one configured driver.
type Status struct {
	Name          string `json:"name"` // <kind>-<driver>
	Kind          string `json:"kind"`
	Driver        string `json:"driver"`
	Path          string `json:"path"`
	PluginVersion string `json:"plugin_version,omitempty"`
	APIVersions   []int  `json:"api_versions,omitempty"`
	Healthy       bool   `json:"healthy"`
	Reason        string `json:"reason,omitempty"` // why not healthy
	Pid           int    `json:"pid,omitempty"`
	Restarts      int    `json:"restarts"`
	// Details are what the plugin's Health reported besides healthy/reason.
	Details map[string]string `json:"details,omitempty"`
}

// Status asks every plugin for its health (all at once, each bounded by 5 s) and
// returns them in configuration order.
func (m *Manager) Status(ctx context.Context) []Status {
	m.mu.Lock()
	all := append([]*instance(nil), m.all...)
	m.mu.Unlock()
	out := make([]Status, len(all))
	var wg sync.WaitGroup
	for n, i := range all {
		wg.Add(1)
		go func() { defer wg.Done(); out[n] = i.status(ctx) }()
	}
	wg.Wait()
	return out
}

func (i *instance) status(ctx context.Context) Status {
	i.mu.Lock()
	s := Status{Name: i.name, Kind: i.kind, Driver: i.driver, Path: i.path, Restarts: i.restarts, Reason: i.down}
	if i.info != nil {
		s.PluginVersion, s.APIVersions = i.info.Version, i.info.APIVersions
	}
	c := i.conn
	i.mu.Unlock()
	if c == nil {
		return s
	}
	s.Pid = c.Pid()
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	h, err := sdk.HealthCheck(ctx, c.Conn)
	switch {
	case err != nil:
		s.Reason = fmt.Sprintf("health check: %v", err)
	case !h.Healthy:
		s.Reason = h.Reason
		if s.Reason == "" {
			s.Reason = "unhealthy (no reason given)"
		}
	default:
		s.Healthy = true
	}
	if err == nil {
		s.Details = h.Details
	}
	return s
}

// Ready returns nil when every configured plugin is up and healthy, else an error
// naming each one that is not and why.
func (m *Manager) Ready(ctx context.Context) error {
	var errs []error
	for _, s := range m.Status(ctx) {
		if !s.Healthy {
			errs = append(errs, fmt.Errorf("plugin %s (%s): %s", s.Name, s.Path, s.Reason))
		}
	}
	return errors.Join(errs...)
}
