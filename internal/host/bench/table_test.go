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

// TestGuardedRatiosAreToTheRowBeside: the table against BullMQ with Sous's guarantees
// compares each row with the guarded measurement taken just before it (falling back
// to the first with as many clients), CPU included; without one it says why.
func TestGuardedRatiosAreToTheRowBeside(t *testing.T) {
	first := Row{Clients: 32, P50: 16 * time.Millisecond, PerSec: 2000, CPU: 800 * time.Microsecond}
	beside := Row{Clients: 32, P50: 10 * time.Millisecond, PerSec: 2500, CPU: 500 * time.Microsecond}
	r := &Report{Peer: map[string]Row{}, Guarded: map[string]Row{peerKey(32): first}, Floors: map[string]time.Duration{}, Rows: []Row{
		{Stack: "redis", Runtime: "bun", Mode: "json", Clients: 32, P50: 8 * time.Millisecond, PerSec: 3000, CPU: 600 * time.Microsecond, BesideGuarded: &beside},
		{Stack: "embedded", Runtime: "bun", Mode: "json", Clients: 32, P50: 8 * time.Millisecond, PerSec: 3000, CPU: 600 * time.Microsecond},
	}}
	var b strings.Builder
	r.Print(&b)
	out := b.String()
	for _, want := range []string{
		"| " + guardedLabel + " | 32 | 16 ms | 2000 | 0.8 ms | - | 1× | 1× | 1× |",
		"| redis/bun/json | 32 | 8 ms | 3000 | 0.6 ms | 10 ms, 2500 | 0.80× | 1.20× | 1.20× |",
		"| embedded/bun/json | 32 | 8 ms | 3000 | 0.6 ms | - | 0.50× | 1.50× | 0.75× |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	(&Report{Peer: map[string]Row{}, Floors: map[string]time.Duration{}, GuardedSkipped: "redis-server refused appendonly", Rows: r.Rows}).Print(&b)
	if want := guardedLabel + " not measured: redis-server refused appendonly"; !strings.Contains(b.String(), want) {
		t.Errorf("table lacks %q:\n%s", want, b.String())
	}
}
