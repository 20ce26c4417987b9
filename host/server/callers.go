package server

import "github.com/sous-run/sous/host/mcp"

// mountCallers adds the API's other front doors: MCP over Streamable HTTP at /mcp.
// Both act through the API handler, so they share its auth, scopes and limits.
func (h *Host) mountCallers() {
	h.API.Mux().Handle("/mcp", mcp.HTTPHandler(h.API.Handler(), h.Auth))
}
