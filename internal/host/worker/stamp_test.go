package worker

import (
	"context"
	"testing"

	"github.com/sous-run/sous/internal/host/fakes"
	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// Every envelope a run hands on carries a time: a log's own is kept, the others are
// stamped as they arrive (a time the function's process put on a chunk is replaced).
func TestRunStampsEveryEvent(t *testing.T) {
	ex := fakes.NewExecutor(fakes.Emit(
		`{"type":"log","stream":"stdout","text":"hi","ts":1700000000123}`,
		`{"type":"chunk","seq":1,"data":{"i":1}}`,
		`{"type":"chunk","seq":2,"data":2,"ts":1}`,
		`{"type":"result","output":{"ok":true}}`,
	))
	ex.Unprepared = true
	r := &Runner{Executors: func(string) (sdk.Executor, error) { return ex, nil }}
	var got []*envelope.Envelope
	_, err := r.Run(context.Background(), &invocation.Task{InvocationID: "i", Runtime: "bun", Env: "dev"}, 1, func(e *envelope.Envelope, raw []byte) error {
		d, err := envelope.Unmarshal(raw)
		if err != nil || d.TS != e.TS {
			t.Errorf("raw %s (%v) disagrees with the decoded ts %d", raw, err, e.TS)
		}
		got = append(got, d)
		return nil
	})
	if err != nil || len(got) != 4 {
		t.Fatalf("run: %v, %d events", err, len(got))
	}
	if got[0].TS != 1700000000123 {
		t.Errorf("the log's own time was replaced: %d", got[0].TS)
	}
	for _, e := range got[1:] {
		if e.TS < 1700000000123 {
			t.Errorf("%s event has no time: %d", e.Type, e.TS)
		}
	}
}
