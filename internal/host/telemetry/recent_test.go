package telemetry

import (
	"testing"
	"time"
)

func TestRecentWindow(t *testing.T) {
	w := &window{}
	now := time.Date(2026, 1, 1, 12, 0, 30, 0, time.UTC)
	w.add(now.Add(-20*time.Minute), "failed") // outside the window: overwritten or ignored
	w.add(now.Add(-5*time.Minute), "succeeded")
	w.add(now, "succeeded")
	w.add(now, "timeout")
	got := w.since(now, RecentWindow)
	if got["succeeded"] != 2 || got["timeout"] != 1 || got["failed"] != 0 {
		t.Fatalf("last 15m: %v", got)
	}
	if got := w.since(now, time.Minute); got["succeeded"] != 1 {
		t.Fatalf("last minute: %v", got)
	}
}
