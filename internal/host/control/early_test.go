package control

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/events"
	"github.com/sous-run/sous/internal/host/fakes"
	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/sdk/envelope"
)

// gatedEvents is a shared event log whose publishes wait until gate is closed.
type gatedEvents struct {
	*fakes.Events
	gate chan struct{}
}

func (g *gatedEvents) Publish(ctx context.Context, tenant, id string, envs ...[]byte) ([]string, error) {
	<-g.gate
	return g.Events.Publish(ctx, tenant, id, envs...)
}

// A follower that needs event ids (SSE) has the final record written while the shared
// log still appends the run's last batch (this host's worker holds the run); it relays
// the batch with its ids once they come, and the record is the batch's outcome.
func TestFollowWritesTheFinalRecordBeforeTheLastIDs(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	shared := &gatedEvents{Events: fakes.NewEvents(), gate: make(chan struct{})}
	tap := events.NewTap(shared)
	s := New(Options{}, st, fakes.NewMessaging(), tap, nil, nil)
	t.Cleanup(func() { s.Close(); tap.Close(); _ = st.Close() })
	sub, err := s.Submit(context.Background(), Request{Task: invocation.Task{Tenant: "t", Function: "fn", Digest: "d", Runtime: "bun", Env: "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	rec := sub.Record
	release := tap.Claim("t", rec.ID) // this host's worker runs it
	defer release()
	var ids []string
	var c collect
	followed := make(chan error, 1)
	go func() {
		followed <- s.Follow(context.Background(), rec, "", func(id string, e *envelope.Envelope, raw []byte) error {
			ids = append(ids, id)
			return c.handle(id, e, raw)
		})
	}()
	var batch [][]byte
	for _, e := range []*envelope.Envelope{status(envelope.TypeStatus, 1), {Type: envelope.TypeResult, Output: []byte(`{"ok":true}`)}, envelope.Done()} {
		raw, _ := envelope.Marshal(e)
		batch = append(batch, raw)
	}
	published := make(chan error, 1)
	go func() {
		_, err := tap.PublishLast(context.Background(), "t", rec.ID, time.Minute, batch...)
		published <- err
	}()
	eventually(t, "the final record written while the last batch is being published", func() bool {
		got, err := st.GetInvocation("t", rec.ID)
		return err == nil && got.Status == invocation.StatusSucceeded
	})
	select {
	case err := <-followed:
		t.Fatalf("the follower ended (%v) before the events had their ids", err)
	default:
	}
	close(shared.gate)
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	if err := <-followed; err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.types, ","); got != "status,result,done" {
		t.Fatalf("relayed %s", got)
	}
	for i, id := range ids {
		if id == "" {
			t.Fatalf("event %d relayed without its id: %v", i, ids)
		}
	}
	got, _ := st.GetInvocation("t", rec.ID)
	if string(got.Output) != `{"ok":true}` || got.Attempts != 1 {
		t.Fatalf("final record %+v", got)
	}
}
