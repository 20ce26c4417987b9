// Package console is the web console the host serves at /console/: static assets
// embedded in the binary (vanilla JS and CSS, nothing from another origin, a strict
// CSP, no inline script) that use the public HTTP API from the browser with the
// token kept in sessionStorage. It adds the few endpoints the API lacks: the
// exchange of a one-time sign-in link (printed by `sous dev`) for a token, and the
// read-only files of a version for a caller with the read scope.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"time"

	"github.com/sous-run/sous/internal/host/api"
	"github.com/sous-run/sous/internal/host/auth"
)

//go:embed assets
var assets embed.FS

// Path is where the console is served.
const Path = "/console/"

// csp allows only this origin: scripts and styles from files (no inline code, no
// eval), API calls to this host, no frames, no forms posting elsewhere.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Console is the mounted console; SignInLink makes one-time links into it.
type Console struct {
	links *links
}

// Mount adds the console's routes to s.
func Mount(s *api.Server) *Console {
	c := &Console{links: newLinks(10 * time.Minute)}
	sub, _ := fs.Sub(assets, "assets")
	static := http.StripPrefix(Path, http.FileServerFS(sub))
	s.Mux().Handle("GET "+Path, headers(static))
	s.Mux().Handle("GET /console", http.RedirectHandler(Path, http.StatusMovedPermanently))
	s.SetHome(Path)
	s.Route("POST", Path+"api/signin", "", c.signIn)
	s.Route("GET", Path+"api/functions/{name}/versions/{version}/files", auth.ScopeRead, files(s))
	return c
}

// headers sets the security headers on every console asset.
func headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}
