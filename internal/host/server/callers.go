package server

import (
	"github.com/sous-run/sous/internal/host/console"
	"github.com/sous-run/sous/internal/host/mcp"
)

// mountCallers adds the API's other front doors: the web console at /console/ and
// MCP over Streamable HTTP at /mcp. Both act through the API's own routes, so they
// share its auth, scopes and limits.
func (h *Host) mountCallers() {
	h.Console = console.Mount(h.API)
	h.API.Mux().Handle("/mcp", mcp.HTTPHandler(h.API.Handler(), h.Auth))
}
