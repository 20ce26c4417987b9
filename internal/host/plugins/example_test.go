package plugins

import (
	"context"
	"errors"
	"testing"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// The events-memory example, driven through the manager like the host would: a
// following Read gets events published after it started and ends after done; a Read
// resumes after an id; Expire drops the log; bad input is refused without storing.
func TestExampleEventsMemoryThroughManager(t *testing.T) {
	m := start(t, load(t, memoryEvents(t, pluginDir(t, "messaging-fake"), exampleEvents(t))))
	ctx := context.Background()
	ev := m.Events()
	ids := func(after string, follow bool, inv string) ([]string, error) {
		var ids []string
		err := ev.Read(ctx, "t", inv, after, follow, func(e sdk.Event) error {
			ids = append(ids, e.ID)
			return nil
		})
		return ids, err
	}
	got := make(chan []string, 1)
	go func() {
		got <- must(ids("", true, "f"))
	}()
	chunk := func(seq int64) *envelope.Envelope {
		return &envelope.Envelope{Type: envelope.TypeChunk, Seq: seq, Data: []byte(`1`)}
	}
	for _, batch := range [][]*envelope.Envelope{{chunk(1)}, {chunk(2), chunk(3)}, {envelope.Done()}} {
		if _, err := publish(ctx, t, ev, "f", batch...); err != nil {
			t.Fatal(err)
		}
	}
	if ids := <-got; len(ids) != 4 || ids[0] != "1" || ids[3] != "4" {
		t.Fatalf("following Read got %v, want ids 1..4 then end", ids)
	}
	if ids, err := ids("3", true, "f"); err != nil || len(ids) != 1 || ids[0] != "4" {
		t.Fatalf("resume after 3: %v %v", ids, err)
	}
	// plugintest.Events: an event published after done is stored but never read.
	if _, err := publish(ctx, t, ev, "f", chunk(4)); err != nil {
		t.Fatalf("publish after done: %v", err)
	}
	if ids, err := ids("4", true, "f"); err != nil || len(ids) != 0 {
		t.Fatalf("read after done: %v %v, want nothing", ids, err)
	}
	if _, err := ev.Publish(ctx, "t", "g", envJSON(t, chunk(1)), []byte(`{"type":"nope"}`)); !errors.Is(err, sdk.ErrInvalid) {
		t.Fatalf("invalid envelope: %v", err)
	}
	if err := ev.Expire(ctx, "t", "f", 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the log to expire", func() bool {
		ids, err := ids("", false, "f")
		return err == nil && len(ids) == 0
	})
	// Nothing of the refused batch was stored.
	if ids, err := ids("", false, "g"); err != nil || len(ids) != 0 {
		t.Fatalf("refused batch left %v (%v)", ids, err)
	}
}

// must returns v, or v with the error's text appended as an id.
func must(v []string, err error) []string {
	if err != nil {
		return append(v, "error: "+err.Error())
	}
	return v
}
