package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/telemetry"
)

type principalKey struct{}

// Principal returns the authenticated caller of a request served through a
// Route with a scope (nil for public routes).
func Principal(ctx context.Context) *auth.Principal {
	p, _ := ctx.Value(principalKey{}).(*auth.Principal)
	return p
}

// Route mounts h at "METHOD pattern" (Go 1.22 ServeMux syntax, e.g.
// "/v1/functions/{name}"). If scope is non-empty the request must carry a
// valid bearer token holding that scope: missing/invalid/expired token 401,
// missing scope 403; the principal is then available through Principal.
// Every route is counted and timed in /metrics under its pattern.
func (s *Server) Route(method, pattern, scope string, h http.HandlerFunc) {
	s.mux.HandleFunc(method+" "+pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		r = telemetry.FromRequest(r)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			s.metrics.observe(method, pattern, strconv.Itoa(rec.status), time.Since(start))
		}()
		if scope != "" {
			p, ok := s.authorize(rec, r, scope)
			if !ok {
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		}
		h(rec, r)
	})
}

// authorize checks the bearer token and scope, writing the 401/403 itself.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, scope string) (*auth.Principal, bool) {
	h := r.Header.Get("Authorization")
	tok, found := strings.CutPrefix(h, "Bearer ")
	if !found && h != "" {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_request"`)
		WriteError(w, r, http.StatusUnauthorized, "unauthorized", "the Authorization header must be `Bearer <token>`")
		return nil, false
	}
	p, err := s.auth.Verify(strings.TrimSpace(tok))
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		msg := "invalid token: " + err.Error() + "; get one with `sous token create`"
		if errors.Is(err, auth.ErrNoToken) {
			msg = "missing bearer token: send `Authorization: Bearer <token>` (the dev host writes one to .sous/auth/admin.token)"
		}
		WriteError(w, r, http.StatusUnauthorized, "unauthorized", msg)
		return nil, false
	}
	if !p.Has(scope) {
		WriteError(w, r, http.StatusForbidden, "forbidden", "this token lacks the "+scope+" scope (it has: "+strings.Join(p.Scopes, " ")+")")
		return nil, false
	}
	return p, true
}

// statusRecorder remembers the status code for metrics; it passes Flush through for streaming handlers.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Flush lets SSE handlers flush through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
