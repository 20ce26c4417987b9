package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/sdk/envelope"
)

var clockRe = regexp.MustCompile(`^\S*\s+\d\d:\d\d:\d\d\.\d\d\d\s`)

// sous logs prints one line per event, each with its time; done (unstamped) takes the
// terminal event's; an error's stack lines keep it too.
func TestLogsPrintsATimeOnEveryLine(t *testing.T) {
	ts := int64(1700000000123)
	evs := []client.Event{
		{ID: "1", Envelope: &envelope.Envelope{Type: envelope.TypeStatus, Status: "running", Attempt: 1, Worker: "w", TS: ts}},
		{ID: "2", Envelope: &envelope.Envelope{Type: envelope.TypeLog, Stream: "stdout", Text: "hi\n", TS: ts}},
		{ID: "3", Envelope: &envelope.Envelope{Type: envelope.TypeChunk, Seq: 1, Data: []byte(`{"i":1}`), TS: ts}},
		{ID: "4", Envelope: &envelope.Envelope{Type: envelope.TypeStatus, Status: "truncated", Message: "over limits", TS: ts}},
		{ID: "5", Envelope: &envelope.Envelope{Type: envelope.TypeError, Kind: "user", Message: "boom", Stack: "at a\nat b\n", TS: ts}},
		{ID: "6", Envelope: envelope.Done()},
		{ID: "1700000000999-0", Envelope: &envelope.Envelope{Type: envelope.TypeChunk, Seq: 2, Data: []byte(`2`)}},
	}
	var b bytes.Buffer
	var last int64
	for _, ev := range evs {
		last = printEvent(&b, ev, last)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != len(evs)+2 {
		t.Fatalf("%d lines for %d events and 2 stack lines:\n%s", len(lines), len(evs), b.String())
	}
	for _, l := range lines {
		if !clockRe.MatchString(l) {
			t.Errorf("line without a time: %q", l)
		}
	}
	// An event with no time at all says so rather than inventing one.
	b.Reset()
	printEvent(&b, client.Event{ID: "9", Envelope: &envelope.Envelope{Type: envelope.TypeChunk, Seq: 1, Data: []byte(`1`)}}, ts)
	if clockRe.MatchString(b.String()) {
		t.Errorf("an untimed chunk printed a time: %q", b.String())
	}
}
