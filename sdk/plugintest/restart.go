package plugintest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sous-run/sous/sdk"
)

// waitHealth polls Health until it reports healthy == want, and returns the last answer.
func waitHealth(t testing.TB, p *Plugin, want bool, within time.Duration) sdk.Health {
	t.Helper()
	end := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(bg, 10*time.Second)
		h, err := p.Health(ctx)
		cancel()
		if err != nil {
			t.Fatalf("Health: %v", err)
		}
		if h.Healthy == want {
			return h
		}
		if time.Now().After(end) {
			t.Fatalf("Health stayed healthy=%v (reason %q) for %s", h.Healthy, h.Reason, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ackThrough acks d, retrying while the backend is unavailable: an Ack repeated with the
// same lease must succeed without being applied twice.
func (sc *scope) ackThrough(d sdk.Delivery, within time.Duration) {
	sc.t.Helper()
	end := time.Now().Add(within)
	for {
		err := sc.ack(d.Lease, `{"acked":"`+d.Task.ID+`"}`)
		if err == nil {
			return
		}
		if !errors.Is(err, sdk.ErrUnavailable) || time.Now().After(end) {
			sc.t.Fatalf("Ack %s across a backend restart: %v", d.Task.ID, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *msuite) restart(t *testing.T) {
	sc := s.scope(t)
	var ids []string
	for i := 0; i < 6; i++ {
		ids = append(ids, sc.enqueue(sdk.Task{Payload: []byte(`{}`)}).ID)
	}
	c := sc.consumer(60*time.Second, 3)
	held := []sdk.Delivery{c.Next(), c.Next(), c.Next()}
	sc.ackThrough(held[0], s.o.Wait)

	s.o.StopBackend()
	h := waitHealth(t, s.p, false, s.o.Wait)
	if h.Reason == "" {
		t.Fatalf("unhealthy without a reason")
	}
	t.Logf("while down: %s", h.Reason)
	acked := make(chan struct{})
	go func() {
		defer close(acked)
		sc.ackThrough(held[1], 2*s.o.Wait)
	}()
	time.Sleep(300 * time.Millisecond)
	s.o.StartBackend()
	waitHealth(t, s.p, true, s.o.Wait)
	<-acked
	sc.ackThrough(held[1], s.o.Wait) // repeated: must be a no-op
	sc.ackThrough(held[2], s.o.Wait)

	c.Credit(3)
	for i := 0; i < 3; i++ {
		d := c.Next()
		if d.Task.Attempt != 1 {
			t.Fatalf("task %s delivered with attempt %d after the restart, want 1", d.Task.ID, d.Task.Attempt)
		}
		sc.ackThrough(d, s.o.Wait)
	}
	for _, id := range ids {
		r := sc.wantStatus(id, "completed")
		if r.Attempts != 1 || string(r.Result) != `{"acked":"`+id+`"}` {
			t.Fatalf("task %s: attempts %d result %s after the restart", id, r.Attempts, r.Result)
		}
	}
	sc.wantStats(0, 0, 0, 0)
	c.None(300*time.Millisecond, "a task was delivered twice across the restart")
}
