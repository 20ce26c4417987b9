package driver

import "testing"

// The abandon log names a task by the id Sous enqueued it with.
func TestSousIDOfCodeqID(t *testing.T) {
	var m idMap
	m.put("acme", "key-1", "uuid-1")
	m.put("acme", "inv-1", "uuid-1")
	if got := m.sousID("uuid-1"); got != "inv-1" {
		t.Fatalf("Sous id of uuid-1: %q, want inv-1", got)
	}
	if got := m.sousID("uuid-2"); got != "" {
		t.Fatalf("Sous id of a task not enqueued here: %q, want none", got)
	}
}
