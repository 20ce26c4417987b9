package server

import (
	"context"
	"net/http"

	"github.com/sous-run/sous/internal/host/api"
	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/config"
	"github.com/sous-run/sous/internal/host/plugins"
	"github.com/sous-run/sous/sdk"
)

// PluginsPath is the admin endpoint that reports the running host's plugins
// (what `sous plugins ls` shows when a host is running).
const PluginsPath = "/v1/admin/plugins"

// mountAdmin adds the host's admin endpoints to the API.
func (h *Host) mountAdmin() {
	h.API.Route("GET", PluginsPath, auth.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) {
		api.WriteJSON(w, http.StatusOK, PluginStatus(r.Context(), h.Plugins, h.Cfg))
	})
}

// PluginStatus is every configured driver's status, plugins first (in
// configuration order), then a driver built into the host, if one is configured.
func PluginStatus(ctx context.Context, m *plugins.Manager, cfg *config.Config) []plugins.Status {
	st := m.Status(ctx)
	if d := cfg.Plugins.Events.Driver; config.IsHostDriver(sdk.KindEvents, d) {
		st = append(st, plugins.Status{Name: "events-" + d, Kind: sdk.KindEvents, Driver: d,
			Path: "(built into the host)", Healthy: true})
	}
	return st
}
