package telemetry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/propagation"

	sdktel "github.com/sous-run/sous/sdk/telemetry"
)

// FromRequest continues the caller's trace when the request carries a traceparent
// header and tracing is on; otherwise r is returned as is.
func FromRequest(r *http.Request) *http.Request {
	if !sdktel.Enabled() || r.Header.Get("traceparent") == "" {
		return r
	}
	return r.WithContext(sdktel.Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
}

// Gatherer is everything a host process exposes on /metrics besides the API's own
// registry: the process-wide Sous metrics, this host's collectors (reg) and the
// plugins' relayed metrics.
func Gatherer(reg *prometheus.Registry, plugins prometheus.Gatherer) prometheus.Gatherer {
	return prometheus.Gatherers{sdktel.Registry, reg, plugins}
}

// ServeMetrics serves /metrics (g plus the Go runtime and process metrics) on ln
// until ctx ends: the scrape target of a process without an API (role worker).
func ServeMetrics(ctx context.Context, ln net.Listener, g prometheus.Gatherer) error {
	rt := prometheus.NewRegistry()
	rt.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(prometheus.Gatherers{rt, g}, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
