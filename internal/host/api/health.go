package api

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// SetReady replaces the /readyz check (Options.Ready) at any time, e.g.
// once the plugin manager exists; nil means always ready.
func (s *Server) SetReady(ready func(ctx context.Context) error) {
	if ready == nil {
		s.ready.Store(nil)
		return
	}
	s.ready.Store(&ready)
}

// SetReadyDetail adds fields to a ready /readyz answer (cluster mode: this node's
// role), asked on each request.
func (s *Server) SetReadyDetail(detail func() map[string]string) { s.readyDetail.Store(&detail) }

func (s *Server) routeHealth() {
	s.SetReady(s.opts.Ready)
	s.Route("GET", "/healthz", "", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.Route("GET", "/readyz", "", func(w http.ResponseWriter, r *http.Request) {
		if ready := s.ready.Load(); ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
			defer cancel()
			if err := (*ready)(ctx); err != nil {
				WriteError(w, r, http.StatusServiceUnavailable, "not_ready", err.Error())
				return
			}
		}
		body := map[string]string{}
		if detail := s.readyDetail.Load(); detail != nil {
			body = (*detail)()
		}
		body["status"] = "ready"
		WriteJSON(w, http.StatusOK, body)
	})
	s.Route("GET", "/metrics", "", promhttp.HandlerFor(s.gatherer(), promhttp.HandlerOpts{}).ServeHTTP)
}
