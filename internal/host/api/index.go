package api

import (
	"net/http"
	"strings"
)

// Index is the body of GET /: where to go from the root URL a host prints.
type Index struct {
	Name   string       `json:"name"`
	Docs   string       `json:"docs"`
	Auth   string       `json:"auth"`
	Routes []IndexRoute `json:"routes"`
}

// IndexRoute is one endpoint of the API.
type IndexRoute struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Scope  string `json:"scope,omitempty"` // "" = no token needed
	About  string `json:"about"`
}

// indexRoutes lists the public API (README "HTTP API"). Routes other packages
// mount beyond these are not listed.
var indexRoutes = []IndexRoute{
	{"POST", "/v1/functions/{name}/versions", "deploy", "deploy a version {runtime, entry, files{path: base64}, vars, timeout_ms, memory_mb, env?}"},
	{"GET", "/v1/functions", "read", "list functions"},
	{"GET", "/v1/functions/{name}", "read", "one function (latest version, aliases)"},
	{"DELETE", "/v1/functions/{name}", "deploy", "soft delete"},
	{"GET", "/v1/functions/{name}/versions", "read", "versions, newest first"},
	{"PUT", "/v1/functions/{name}/aliases/{alias}", "deploy", "point an alias at {version: N} (promote)"},
	{"POST", "/v1/functions/{name}/invoke", "invoke", "run: body = input JSON; ?env=dev|prod or ?version=N; Accept: text/event-stream for SSE"},
	{"GET", "/v1/invocations", "read", "invocation records; ?function=&status=&limit="},
	{"GET", "/v1/invocations/{id}", "read", "one invocation record"},
	{"GET", "/v1/invocations/{id}/events", "read", "an invocation's events, replayed then live (SSE or JSON)"},
	{"GET", "/v1/bundles/{digest}", "worker", "a version's files, for remote workers"},
	{"GET", "/v1/admin/plugins", "admin", "the running host's plugins and their health"},
	{"GET", "/v1/admin/status", "admin", "processes, plugins, queue depth, recent invocations (sous status)"},
	{"PUT", "/v1/functions/{name}/schedules/{id}", "deploy", "create or replace a schedule {cron, input, env, timezone, enabled, catchup}"},
	{"GET", "/v1/schedules", "read", "every schedule with its next run"},
	{"GET", "/v1/webhooks/secret", "admin", "the tenant's webhook signing secret (POST .../rotate to rotate)"},
	{"POST", "/mcp", "invoke", "MCP over Streamable HTTP (tools: list_functions, invoke, deploy, ...)"},
	{"GET", "/console/", "", "the web console (sign in with a token)"},
	{"GET", "/healthz", "", "liveness"},
	{"GET", "/readyz", "", "readiness (plugins healthy)"},
	{"GET", "/metrics", "", "Prometheus metrics"},
}

// routeIndex answers GET / with a JSON index of the API, so the URL a host
// prints leads somewhere.
func (s *Server) routeIndex() {
	s.Route("GET", "/{$}", "", func(w http.ResponseWriter, r *http.Request) {
		if home := s.home.Load(); home != nil && strings.Contains(r.Header.Get("Accept"), "text/html") {
			http.Redirect(w, r, *home, http.StatusFound) // a browser goes to the console
			return
		}
		WriteJSON(w, http.StatusOK, Index{
			Name:   "Sous API",
			Docs:   "README.md, section HTTP API, in the Sous repository",
			Auth:   "send Authorization: Bearer <token> (the dev host writes one to .sous/auth/admin.token; `sous token create` makes others)",
			Routes: indexRoutes,
		})
	})
}

// SetHome makes GET / send browsers (Accept: text/html) to path; API clients keep
// getting the JSON index.
func (s *Server) SetHome(path string) { s.home.Store(&path) }
