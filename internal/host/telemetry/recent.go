package telemetry

import (
	"sync"
	"time"
)

// RecentWindow is how far back Recent counts finished invocations.
const RecentWindow = 15 * time.Minute

// recent counts this process's finished invocations per minute and status.
var recent = &window{}

type window struct {
	mu      sync.Mutex
	buckets [int(RecentWindow / time.Minute)]struct {
		minute int64
		counts map[string]int
	}
}

func (w *window) add(now time.Time, status string) {
	m := now.Unix() / 60
	w.mu.Lock()
	defer w.mu.Unlock()
	b := &w.buckets[m%int64(len(w.buckets))]
	if b.minute != m || b.counts == nil {
		b.minute, b.counts = m, map[string]int{}
	}
	b.counts[status]++
}

// since sums the counts of the minutes from now-d (rounded down to a minute) to now.
func (w *window) since(now time.Time, d time.Duration) map[string]int {
	from, to := now.Add(-d).Unix()/60, now.Unix()/60
	out := map[string]int{}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range w.buckets {
		if b.minute >= from && b.minute <= to {
			for s, n := range b.counts {
				out[s] += n
			}
		}
	}
	return out
}

// Recent returns how many invocations this process finalized in the last d (at most
// RecentWindow), by status.
func Recent(d time.Duration) map[string]int { return recent.since(time.Now(), min(d, RecentWindow)) }
