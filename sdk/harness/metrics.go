package harness

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sous-run/sous/sdk/telemetry"
)

// Executor metrics, registered on telemetry.Registry with a runtime label by NewPlugin;
// the host relays them on its /metrics.
var (
	coldStarts = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "sous_executor_cold_start_duration_seconds", Buckets: telemetry.LatencyBuckets,
		Help: "Time to start a harness process for an invocation that found no warm one (count = cold starts).",
	})
	evictions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sous_executor_evictions_total",
		Help: "Warm harness processes ended by the pool: reason lru (room for another function) or idle_ttl.",
	}, []string{"reason"})
	limitKills = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sous_executor_limit_kills_total",
		Help: "Harness processes killed for breaching a limit: timeout, memory or max_result_bytes.",
	}, []string{"limit"})
	logTruncations = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sous_executor_log_truncations_total",
		Help: "Invocations whose log output was truncated at max_log_bytes.",
	})
)

// registerMetrics registers the executor metrics, and the warm process gauge read
// from p's pool, labelled with p's runtime.
func registerMetrics(p *Plugin) {
	reg := prometheus.WrapRegistererWith(prometheus.Labels{"runtime": p.rt.Name}, telemetry.Registry)
	processes := func(idle bool) func() float64 {
		return func() float64 {
			l, err := p.live()
			if err != nil {
				return 0
			}
			total, n := l.pool.Stats()
			if idle {
				return float64(n)
			}
			return float64(total - n)
		}
	}
	for _, c := range []prometheus.Collector{coldStarts, evictions, limitKills, logTruncations,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sous_executor_processes", ConstLabels: prometheus.Labels{"state": "idle"},
			Help: "Live harness processes: idle (warm, waiting) or busy (running an invocation)."}, processes(true)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sous_executor_processes", ConstLabels: prometheus.Labels{"state": "busy"},
			Help: "Live harness processes: idle (warm, waiting) or busy (running an invocation)."}, processes(false)),
	} {
		var are prometheus.AlreadyRegisteredError
		if err := reg.Register(c); err != nil && !errors.As(err, &are) {
			panic(err)
		}
	}
	for _, r := range []string{"lru", "idle_ttl"} {
		evictions.WithLabelValues(r)
	}
	for _, l := range []string{"timeout", "memory", "max_result_bytes"} {
		limitKills.WithLabelValues(l)
	}
}

// observeColdStart records a harness process start begun at t0 (defer it).
func observeColdStart(t0 time.Time) { coldStarts.Observe(time.Since(t0).Seconds()) }
