package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/host/events"
	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// steps records acks and publishes in the order they happen.
type steps struct {
	mu  sync.Mutex
	log []string
	rec []byte // the acked record
}

func (s *steps) add(step string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, step)
}

// ackingQueue acks after a delay, so a publish that does not wait for it comes first.
type ackingQueue struct {
	sdk.Messaging
	s *steps
}

func (q ackingQueue) Ack(_ context.Context, _ sdk.Lease, result []byte) error {
	time.Sleep(50 * time.Millisecond)
	q.s.mu.Lock()
	q.s.rec = result
	q.s.mu.Unlock()
	q.s.add("ack")
	return nil
}

// smallLog refuses any batch holding an envelope over max bytes, as
// events-redisstream refuses one over max_envelope_bytes.
type smallLog struct {
	events.Log
	s   *steps
	max int
}

func (l smallLog) Publish(_ context.Context, _, _ string, envs ...[]byte) ([]string, error) {
	var types []string
	for _, raw := range envs {
		if len(raw) > l.max {
			l.s.add("refused")
			return nil, fmt.Errorf("envelope is %d bytes, over max_envelope_bytes %d", len(raw), l.max)
		}
		e, _ := envelope.Unmarshal(raw)
		types = append(types, e.Type)
	}
	l.s.add("publish " + strings.Join(types, "+"))
	return make([]string, len(envs)), nil
}

func (smallLog) Expire(context.Context, string, string, time.Duration) error { return nil }

// TestFinishWhenTheLogRefusesTheTerminal: a terminal event over the event log's limit
// does not leave the caller without done: done goes alone once the ack (which carries
// the whole outcome) is answered, so the control role can answer from the record.
func TestFinishWhenTheLogRefusesTheTerminal(t *testing.T) {
	s := &steps{}
	w := New(Options{ID: "w1"}, ackingQueue{s: s}, smallLog{s: s, max: 1024}, nil, hclog.NewNullLogger())
	output, _ := json.Marshal(strings.Repeat("x", 4096))
	out := &invocation.Outcome{InvocationID: "inv", Status: invocation.StatusSucceeded, Output: output}
	w.finish(context.Background(), &invocation.Task{Tenant: "acme", InvocationID: "inv"}, sdk.Lease{Tenant: "acme", TaskID: "inv", ID: "l"}, out, nil, nil, hclog.NewNullLogger())

	if got, want := strings.Join(s.log, ", "), "refused, ack, publish done"; got != want {
		t.Fatalf("steps: %s; want %s", got, want)
	}
	var rec invocation.Outcome
	if err := json.Unmarshal(s.rec, &rec); err != nil || rec.Status != invocation.StatusSucceeded || string(rec.Output) != string(output) {
		t.Fatalf("acked record %s (%v); want the succeeded outcome with its output", s.rec, err)
	}
}

// TestFinishPublishesTerminalAndDoneTogether: when the log takes the batch, done is
// not published a second time.
func TestFinishPublishesTerminalAndDoneTogether(t *testing.T) {
	s := &steps{}
	w := New(Options{ID: "w1"}, ackingQueue{s: s}, smallLog{s: s, max: 1 << 20}, nil, hclog.NewNullLogger())
	out := &invocation.Outcome{InvocationID: "inv", Status: invocation.StatusSucceeded, Output: []byte(`1`)}
	w.finish(context.Background(), &invocation.Task{Tenant: "acme", InvocationID: "inv"}, sdk.Lease{Tenant: "acme", TaskID: "inv", ID: "l"}, out, nil, nil, hclog.NewNullLogger())
	if got, want := strings.Join(s.log, ", "), "publish result+done, ack"; got != want {
		t.Fatalf("steps: %s; want %s", got, want)
	}
}

// lastLog is a smallLog that takes the TTL with the last envelopes.
type lastLog struct{ smallLog }

func (l lastLog) PublishLast(ctx context.Context, tenant, id string, ttl time.Duration, envs ...[]byte) ([]string, error) {
	l.s.add("ttl " + ttl.String())
	return l.Publish(ctx, tenant, id, envs...)
}

func (l lastLog) Expire(context.Context, string, string, time.Duration) error {
	l.s.add("expire")
	return nil
}

// TestFinishGivesTheTTLWithDone: a log that takes the TTL with a publish gets it with
// the terminal event and done, and no Expire call of its own.
func TestFinishGivesTheTTLWithDone(t *testing.T) {
	s := &steps{}
	w := New(Options{ID: "w1", EventsTTL: time.Minute}, ackingQueue{s: s}, lastLog{smallLog{s: s, max: 1 << 20}}, nil, hclog.NewNullLogger())
	out := &invocation.Outcome{InvocationID: "inv", Status: invocation.StatusSucceeded, Output: []byte(`1`)}
	w.finish(context.Background(), &invocation.Task{Tenant: "acme", InvocationID: "inv"}, sdk.Lease{Tenant: "acme", TaskID: "inv", ID: "l"}, out, nil, nil, hclog.NewNullLogger())
	if got, want := strings.Join(s.log, ", "), "ttl 1m0s, publish result+done, ack"; got != want {
		t.Fatalf("steps: %s; want %s", got, want)
	}
}
