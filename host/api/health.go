package api

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func (s *Server) routeHealth() {
	s.Route("GET", "/healthz", "", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.Route("GET", "/readyz", "", func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
			defer cancel()
			if err := s.opts.Ready(ctx); err != nil {
				WriteError(w, r, http.StatusServiceUnavailable, "not_ready", err.Error())
				return
			}
		}
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	s.Route("GET", "/metrics", "", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}).ServeHTTP)
}
