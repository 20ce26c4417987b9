package events

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestEmbeddedRefusesResumePastTheEnd: Last-Event-ID 99 on a 3-event log is no id the
// log gave, so it is refused instead of replaying from nowhere.
func TestEmbeddedRefusesResumePastTheEnd(t *testing.T) {
	l := NewEmbedded(EmbeddedOptions{})
	defer l.Close()
	_, _ = l.Publish(context.Background(), "t", "inv", []byte(`{"type":"status","status":"running"}`),
		[]byte(`{"type":"result","output":1}`), []byte(`{"type":"done"}`))
	err := l.Read(context.Background(), "t", "inv", "99", false, func(Event) error { return nil })
	if !errors.Is(err, ErrBadEventID) || !strings.Contains(err.Error(), "past the end") {
		t.Fatalf("resume after 99 of 3: want ErrBadEventID saying past the end, got %v", err)
	}
	if got := collect(t, l, "t", "inv", "3", true); len(got) != 0 {
		t.Fatalf("resume after the last id: want nothing more, got %+v", got)
	}
}

// TestEmbeddedGlobalCapTruncates: past MaxBytes a live invocation's chunks are dropped
// behind one truncation event while its result and done are kept; finished logs are
// dropped first to make room.
func TestEmbeddedGlobalCapTruncates(t *testing.T) {
	l := NewEmbedded(EmbeddedOptions{MaxBytes: 4096})
	defer l.Close()
	ctx := context.Background()
	chunk := func(i int) []byte {
		return []byte(fmt.Sprintf(`{"type":"chunk","data":"%s","seq":%d}`, strings.Repeat("x", 200), i))
	}
	_, _ = l.Publish(ctx, "t", "old", chunk(1), []byte(`{"type":"done"}`))
	for i := 1; i <= 100; i++ {
		if _, err := l.Publish(ctx, "t", "live", chunk(i)); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = l.Publish(ctx, "t", "live", []byte(`{"type":"result","output":"kept"}`), []byte(`{"type":"done"}`))
	if got := collect(t, l, "t", "old", "", false); len(got) != 0 {
		t.Fatalf("the finished log should have made room, still holds %d events", len(got))
	}
	got := collect(t, l, "t", "live", "", true)
	var truncations, chunks int
	for _, e := range got {
		switch {
		case strings.Contains(string(e.Envelope), `"status":"truncated"`):
			truncations++
		case strings.Contains(string(e.Envelope), `"chunk"`):
			chunks++
		}
	}
	last := string(got[len(got)-2].Envelope) + string(got[len(got)-1].Envelope)
	if truncations != 1 || chunks == 0 || chunks >= 100 || last != `{"type":"result","output":"kept"}{"type":"done"}` {
		t.Fatalf("want some chunks, one truncation event, then result and done; got %d chunks, %d truncations, ending %s", chunks, truncations, last)
	}
	l.mu.Lock()
	total := l.total
	l.mu.Unlock()
	if total > 4096+512 {
		t.Fatalf("the log holds %d bytes, over its cap of 4096", total)
	}
}
