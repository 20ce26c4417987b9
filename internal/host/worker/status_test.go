package worker

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/fakes"
	"github.com/sous-run/sous/sdk/envelope"
)

// batchLog records the envelope types of every Publish call, one string per call.
type batchLog struct {
	*fakes.Events
	mu      sync.Mutex
	batches []string
}

func (l *batchLog) Publish(ctx context.Context, tenant, id string, envs ...[]byte) ([]string, error) {
	var types []string
	for _, raw := range envs {
		e, _ := envelope.Unmarshal(raw)
		types = append(types, e.Type)
	}
	l.mu.Lock()
	l.batches = append(l.batches, strings.Join(types, "+"))
	l.mu.Unlock()
	return l.Events.Publish(ctx, tenant, id, envs...)
}

func (l *batchLog) calls() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.batches, ", ")
}

// withBatchLog points the rig's worker at a batchLog over its fake log.
func withBatchLog(r *rig) *batchLog {
	l := &batchLog{Events: r.ev}
	r.w.events = l
	return l
}

// The status leads the run's first publish: a run that answers at once costs one
// (status, result and done), and one with events sends the status with the first and
// the terminal with done.
func TestStatusLeadsTheFirstPublish(t *testing.T) {
	chunk := `{"type":"chunk","seq":1,"data":1}`
	for _, c := range []struct {
		name string
		envs []string
		want string
	}{
		{"result only", []string{resultEnv}, "status+result+done"},
		{"chunks", []string{chunk, chunk, resultEnv}, "status+chunk, chunk, result+done"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, Options{ID: "w1", StatusDelay: time.Hour}, fakes.Emit(c.envs...))
			l := withBatchLog(r)
			r.start(t)
			r.enqueue(t, "inv1", 3)
			eventually(t, "done", func() bool { return slices.Contains(r.types("inv1"), envelope.TypeDone) })
			if got := l.calls(); got != c.want {
				t.Fatalf("publishes: %s; want %s", got, c.want)
			}
		})
	}
}

// A run that emits nothing for StatusDelay shows as running while it runs: its status
// is published alone, and its result and done follow without it.
func TestSilentRunShowsRunning(t *testing.T) {
	g := newGate()
	r := newRig(t, Options{ID: "w1", StatusDelay: time.Millisecond}, g.play)
	l := withBatchLog(r)
	r.start(t)
	r.enqueue(t, "inv1", 3)
	eventually(t, "the status while the run waits", func() bool { return l.calls() == "status" })
	if running, _ := g.counts(); running != 1 {
		t.Fatalf("%d runs going; want the one still waiting", running)
	}
	close(g.release)
	eventually(t, "done", func() bool { return slices.Contains(r.types("inv1"), envelope.TypeDone) })
	if got := l.calls(); got != "status, result+done" {
		t.Fatalf("publishes: %s; want status, result+done", got)
	}
}

// A run that answers at once while the log hangs is still acked with its outcome (the
// record carries it to the caller), and its slot comes back.
func TestHungLogStillAcksAQuickRun(t *testing.T) {
	r := newRig(t, Options{Concurrency: 1, CallTimeout: 50 * time.Millisecond, StatusDelay: time.Hour}, fakes.Emit(resultEnv))
	r.ev.Hook = fakes.HangOn("Publish")
	r.start(t)
	r.enqueue(t, "a", 1)
	eventually(t, "the ack", func() bool { return len(r.msg.Calls("Ack")) == 1 })
	eventually(t, "the slot back", func() bool { return r.inFlight() == 0 })
	if o := r.result(t, "a"); o.Status != "succeeded" {
		t.Fatalf("acked outcome %+v; want succeeded", o)
	}
}
