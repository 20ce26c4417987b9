// Package latency records per-operation latencies in benchmarks and reports p50, p99
// and throughput with b.ReportMetric, plus ratios to a floor measured in the same run.
package latency

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Recorder collects latencies from many goroutines and the wall time of the run.
type Recorder struct {
	mu    sync.Mutex
	ds    []time.Duration
	start time.Time
	wall  time.Duration
}

// Start marks the beginning of the measured run.
func (r *Recorder) Start() { r.start = time.Now() }

// Stop marks its end.
func (r *Recorder) Stop() { r.wall = time.Since(r.start) }

// Add records one operation's latency.
func (r *Recorder) Add(d time.Duration) {
	r.mu.Lock()
	r.ds = append(r.ds, d)
	r.mu.Unlock()
}

// Quantile returns the q-quantile (0..1) of the recorded latencies.
func (r *Recorder) Quantile(q float64) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ds) == 0 {
		return 0
	}
	s := slices.Clone(r.ds)
	slices.Sort(s)
	i := int(q * float64(len(s)-1))
	return s[i]
}

// PerSecond returns operations per second over the wall time.
func (r *Recorder) PerSecond() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.wall <= 0 {
		return 0
	}
	return float64(len(r.ds)) / r.wall.Seconds()
}

// Report writes name-p50-µs, name-p99-µs and name-ops/s.
func (r *Recorder) Report(b *testing.B, name string) {
	b.ReportMetric(float64(r.Quantile(0.5).Microseconds()), name+"-p50-µs")
	b.ReportMetric(float64(r.Quantile(0.99).Microseconds()), name+"-p99-µs")
	b.ReportMetric(r.PerSecond(), name+"-ops/s")
}

// Compare reports x against the floor measured in the same run: p50 and p99 as
// multiples of the floor's (x/floor) and throughput as a share of the floor's.
func Compare(b *testing.B, x, floor *Recorder) {
	ratio := func(a, f float64) float64 {
		if f == 0 {
			return 0
		}
		return a / f
	}
	b.ReportMetric(ratio(float64(x.Quantile(0.5)), float64(floor.Quantile(0.5))), "p50-x-floor")
	b.ReportMetric(ratio(float64(x.Quantile(0.99)), float64(floor.Quantile(0.99))), "p99-x-floor")
	b.ReportMetric(ratio(x.PerSecond(), floor.PerSecond()), "ops-share-of-floor")
}

// Drive calls send n times from `workers` goroutines, each call after taking a slot in
// sem (whoever completes the operation frees the slot), and returns when all are sent.
func Drive(n, workers int, sem chan struct{}, send func()) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				sem <- struct{}{}
				send()
			}
		}()
	}
	wg.Wait()
}
