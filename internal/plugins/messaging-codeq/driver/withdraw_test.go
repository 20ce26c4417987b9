package driver_test

import (
	"testing"
	"time"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/plugintest"
)

// TestClosedConsumeGivesBackAtOnce: a Consume stream that closes with credits left has a
// Ready held at the broker (here for 60 s, and re-sent only after 60 s). The next
// subscriber must still be served at once, and a task that answers the withdrawn Ready
// must be given back at once (pending, its attempt not counted), not after its lease.
func TestClosedConsumeGivesBackAtOnce(t *testing.T) {
	c := launch(t, embedded(freeAddrs(t), map[string]any{"ready_resend": "60s", "ready_hold": "60s"}))
	const wait = 15 * time.Second
	x, y := cmd+".x", cmd+".y"
	enqueue(t, c, sdk.Task{Command: x, Payload: []byte(`{}`)})
	a := plugintest.OpenConsumer(t, c.Messaging, "acme", []string{x}, 30*time.Second, 2, wait)
	a.Next() // one credit left: a Ready for x is now held at the broker
	a.Close()

	id := enqueue(t, c, sdk.Task{Command: y, Payload: []byte(`{}`)}).ID
	b := plugintest.OpenConsumer(t, c.Messaging, "acme", []string{y}, 30*time.Second, 1, wait)
	if d := b.Next(); d.Task.ID != id || d.Task.Attempt != 1 {
		t.Fatalf("consumer of %s got task %s attempt %d, want %s attempt 1", y, d.Task.ID, d.Task.Attempt, id)
	}

	// The withdrawn Ready claims this task for a subscriber that is gone: the plugin
	// abandons it at once instead of leaving it leased for 30 s.
	late := enqueue(t, c, sdk.Task{Command: x, Payload: []byte(`{}`)}).ID
	next := plugintest.OpenConsumer(t, c.Messaging, "acme", []string{x}, 30*time.Second, 1, wait)
	if d := next.Next(); d.Task.ID != late || d.Task.Attempt != 1 {
		t.Fatalf("consumer of %s got task %s attempt %d, want %s attempt 1", x, d.Task.ID, d.Task.Attempt, late)
	}
}
