package plugintest

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	basepb "github.com/sous-run/sous/sdk/proto/base"
	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

// waitHealth polls Health until it reports healthy == want, and returns the last answer.
func waitHealth(t testing.TB, b basepb.BaseClient, want bool, within time.Duration) *basepb.HealthResponse {
	t.Helper()
	end := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(bg, 10*time.Second)
		h, err := b.Health(ctx, &basepb.HealthRequest{})
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
func (sc *scope) ackThrough(d *messagingpb.Delivery, within time.Duration) {
	sc.t.Helper()
	end := time.Now().Add(within)
	for {
		err := sc.ack(d, `{"acked":"`+d.Task.Id+`"}`)
		if err == nil {
			return
		}
		if status.Code(err) != codes.Unavailable || time.Now().After(end) {
			sc.t.Fatalf("Ack %s across a backend restart: %v", d.Task.Id, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *msuite) restart(t *testing.T) {
	sc := s.scope(t)
	var ids []string
	for i := 0; i < 6; i++ {
		ids = append(ids, sc.enqueue(&messagingpb.Task{Payload: []byte(`{}`)}).Id)
	}
	c := sc.consumer(60, 3)
	held := []*messagingpb.Delivery{c.Next(), c.Next(), c.Next()}
	sc.ackThrough(held[0], s.o.Wait)

	s.o.StopBackend()
	h := waitHealth(t, s.conn.Base, false, s.o.Wait)
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
	waitHealth(t, s.conn.Base, true, s.o.Wait)
	<-acked
	sc.ackThrough(held[1], s.o.Wait) // repeated: must be a no-op
	sc.ackThrough(held[2], s.o.Wait)

	c.Credit(3)
	for i := 0; i < 3; i++ {
		d := c.Next()
		if d.Task.Attempt != 1 {
			t.Fatalf("task %s delivered with attempt %d after the restart, want 1", d.Task.Id, d.Task.Attempt)
		}
		sc.ackThrough(d, s.o.Wait)
	}
	for _, id := range ids {
		r := sc.wantStatus(id, "completed")
		if r.Attempts != 1 || string(r.ResultJson) != `{"acked":"`+id+`"}` {
			t.Fatalf("task %s: attempts %d result %s after the restart", id, r.Attempts, r.ResultJson)
		}
	}
	sc.wantStats(0, 0, 0, 0)
	c.None(300*time.Millisecond, "a task was delivered twice across the restart")
}
