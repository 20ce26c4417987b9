// Package telemetry is the observability kit shared by the host and every plugin: the
// process's Prometheus registry for Sous metrics, the gRPC service through which the
// host relays a plugin's metrics onto its own /metrics, and OpenTelemetry tracing
// (setup from one endpoint, trace context carried in gRPC metadata).
//
// A plugin built with sdk.Serve gets all of it for free: its metrics registered on
// Registry appear on the host's /metrics with a plugin label, and its gRPC handlers
// continue the host's trace when the host exports traces.
package telemetry

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Registry holds this process's Sous metrics (sous_*). The host serves it on
// /metrics; a plugin's is relayed by the host.
var Registry = prometheus.NewRegistry()

// MustRegister registers collectors on Registry; a collector registered twice (a
// package set up again in the same process, as tests do) is not an error.
func MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := Registry.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				continue
			}
			panic(err)
		}
	}
}

// LatencyBuckets are the histogram buckets of every Sous duration: 1 ms to ~2.5 min.
var LatencyBuckets = prometheus.ExponentialBuckets(0.001, 2.5, 14)
