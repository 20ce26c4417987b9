// Package telemetry is the host's observability: its Prometheus metrics (on
// sdk/telemetry's registry, with the plugins' relayed beside them), the hooks the
// control and worker roles call at each stage of an invocation, the spans of those
// stages, the recent-outcomes window `sous status` shows, and the log format.
package telemetry

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	sdktel "github.com/sous-run/sous/sdk/telemetry"
)

// Stages of an invocation timed by sous_invocation_stage_duration_seconds. The cold
// start is timed by the executor (sous_executor_cold_start_duration_seconds).
const (
	StageQueueWait     = "queue_wait"     // enqueued → a worker took it
	StageRun           = "run"            // the executor run, prepare included
	StageEventDelivery = "event_delivery" // one publish to the event log
	StageTotal         = "total"          // enqueued → outcome acked
)

// Reaper actions counted by sous_reaper_actions_total.
const (
	ReapTimedOut  = "timed_out" // no result anywhere: marked timeout
	ReapFinalized = "finalized" // messaging had the result: record finalized from it
	ReapSkipped   = "skipped"   // messaging could not answer: left for the next pass
)

var (
	started = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sous_invocations_started_total", Help: "Invocations accepted by a control role, by runtime.",
	}, []string{"runtime"})
	finished = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sous_invocations_finished_total",
		Help: "Invocations whose record reached a final status, by runtime, status and error kind (empty when succeeded).",
	}, []string{"runtime", "status", "error_kind"})
	stages = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "sous_invocation_stage_duration_seconds", Buckets: sdktel.LatencyBuckets,
		Help: "Latency of each stage of an invocation: queue_wait, run, event_delivery, total.",
	}, []string{"stage", "runtime"})
	inProgress = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "sous_worker_runs_in_progress", Help: "Tasks this worker is running now.",
	})
	redeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sous_queue_redeliveries_total", Help: "Tasks delivered again after a lost attempt (attempt > 1), by command.",
	}, []string{"command"})
	reaper = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sous_reaper_actions_total", Help: "What the reaper did with stale records: timed_out, finalized or skipped.",
	}, []string{"action"})
	eventsPublished = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sous_events_published_total", Help: "Envelopes this process published to the event log.",
	})
	eventBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sous_events_published_bytes_total", Help: "Bytes of envelopes this process published to the event log.",
	})
	buildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "sous_build_info", Help: "Always 1: the version and role of this host process.",
	}, []string{"version", "role"})
)

func init() {
	sdktel.MustRegister(started, finished, stages, inProgress, redeliveries, reaper, eventsPublished, eventBytes, buildInfo)
}

// Init records this process's role in sous_build_info and starts the counters of
// the known label values at 0 (the reaper's actions, the redeliveries of each
// command), so rates work from the first scrape.
func Init(role string, commands []string) {
	buildInfo.WithLabelValues(Version(), role).Set(1)
	for _, a := range []string{ReapTimedOut, ReapFinalized, ReapSkipped} {
		reaper.WithLabelValues(a)
	}
	for _, c := range commands {
		redeliveries.WithLabelValues(c)
	}
}

// InvocationStarted counts an accepted invocation.
func InvocationStarted(runtime string) { started.WithLabelValues(runtime).Inc() }

// InvocationFinished counts a record that reached its final status and notes it in
// the recent window `sous status` reads.
func InvocationFinished(runtime, status, errorKind string) {
	finished.WithLabelValues(runtime, status, errorKind).Inc()
	recent.add(time.Now(), status)
}

// ObserveStage records the latency of one stage.
func ObserveStage(stage, runtime string, d time.Duration) {
	stages.WithLabelValues(stage, runtime).Observe(d.Seconds())
}

// ReaperAction counts one reaper decision.
func ReaperAction(action string) { reaper.WithLabelValues(action).Inc() }

// ObservePublish records one publish begun at t0 of envelopes envs (defer it).
func ObservePublish(t0 time.Time, runtime string, envs [][]byte) {
	ObserveStage(StageEventDelivery, runtime, time.Since(t0))
	eventsPublished.Add(float64(len(envs)))
	n := 0
	for _, e := range envs {
		n += len(e)
	}
	eventBytes.Add(float64(n))
}
