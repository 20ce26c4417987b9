package bench

import (
	"strings"
	"testing"
	"time"
)

// TestRatiosAreToTheBullMQRowBeside: a row measured with BullMQ beside it is compared
// with that measurement, not with the peer's first rows (taken minutes earlier on a
// machine whose speed may have moved); a row without one falls back to the first rows.
// A worker-process row is compared with BullMQ with as many processes beside it.
func TestRatiosAreToTheBullMQRowBeside(t *testing.T) {
	first := Row{Clients: 1, P50: time.Millisecond, PerSec: 1000, CPU: time.Millisecond, Switches: 20}
	beside := Row{Clients: 1, P50: 500 * time.Microsecond, PerSec: 2000, CPU: 400 * time.Microsecond, Switches: 10}
	r := &Report{Peer: map[string]Row{peerKey(1): first}, Floors: map[string]time.Duration{}, Rows: []Row{
		{Stack: "redis", Runtime: "bun", Mode: "json", Clients: 1, P50: 600 * time.Microsecond, PerSec: 1800,
			CPU: 600 * time.Microsecond, Switches: 15, Beside: &beside},
		{Stack: "embedded", Runtime: "bun", Mode: "json", Clients: 1, P50: 600 * time.Microsecond, PerSec: 1800,
			CPU: 600 * time.Microsecond, Switches: 15},
	}, Workers: map[string]Row{workersKey("bun", 2): {Clients: 32, PerSec: 1500, Beside: &Row{Clients: 32, PerSec: 2000}}}}
	var b strings.Builder
	r.Print(&b)
	out := b.String()
	for _, want := range []string{
		"| redis | bun | json | 1 | 0.6 ms | 0 ms | 1800 | 0 ms | - | 0.5 ms, 2000 | 1.20× | 0.90× | 0 |",
		"| embedded | bun | json | 1 | 0.6 ms | 0 ms | 1800 | 0 ms | - | - | 0.60× | 1.80× | 0 |",
		"| redis/bun/json | 1 | 0.6 ms | 15.0 | 1.50× | 1.50× |",
		"| embedded/bun/json | 1 | 0.6 ms | 15.0 | 0.60× | 0.75× |",
		"| BullMQ 5 | 1 | 0.50–0.50 ms | 2000–2000 |",
		"| 2 | bun | 32 | 1500 | 0 ms | 2000 | 0.75× | 0 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
