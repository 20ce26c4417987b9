package control

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/fakes"
	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// rig is a control service over a real store and the fakes.
type rig struct {
	s     *Service
	st    *store.Store
	msg   *fakes.Messaging
	ev    *fakes.Events
	mu    sync.Mutex
	final []string // ids OnFinal was called with
}

func newRig(t testing.TB, opt Options) *rig {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{st: st, msg: fakes.NewMessaging(), ev: fakes.NewEvents()}
	opt.OnFinal = func(rec *store.Invocation) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.final = append(r.final, rec.ID)
	}
	r.s = New(opt, st, r.msg, r.ev, nil, nil)
	t.Cleanup(func() {
		r.s.Close()
		_ = st.Close()
	})
	return r
}

// submit records and queues a sync invocation of t/fn.
func (r *rig) submit(t *testing.T) *store.Invocation {
	t.Helper()
	sub, err := r.s.Submit(context.Background(), Request{Task: invocation.Task{Tenant: "t", Function: "fn", Digest: "d", Runtime: "bun", Env: "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	return sub.Record
}

// publish appends envelopes to the invocation's log.
func (r *rig) publish(t *testing.T, id string, es ...*envelope.Envelope) {
	t.Helper()
	for _, e := range es {
		raw, err := envelope.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.ev.Publish(context.Background(), "t", id, raw); err != nil {
			t.Fatal(err)
		}
	}
}

func (r *rig) record(t *testing.T, id string) *store.Invocation {
	t.Helper()
	rec, err := r.st.GetInvocation("t", id)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func (r *rig) finals() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.final...)
}

// completed makes messaging report id completed with out.
func (r *rig) completed(t *testing.T, id string, out invocation.Outcome) {
	t.Helper()
	raw, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	r.msg.Set("t", sdk.TaskResult{ID: id, Status: sdk.TaskCompleted, Result: raw, CompletedAt: time.Now(), Attempts: 1})
}

// collect is a Handler that keeps the types of the events it gets.
type collect struct {
	mu    sync.Mutex
	types []string
	last  *envelope.Envelope
}

func (c *collect) handle(_ string, e *envelope.Envelope, _ []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.types = append(c.types, e.Type)
	if e.Terminal() {
		c.last = e
	}
	return nil
}

func status(typ string, attempt int) *envelope.Envelope {
	return &envelope.Envelope{Type: typ, Status: string(invocation.StatusRunning), Attempt: attempt}
}

// eventually fails the test if cond does not hold within 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	fakes.Eventually(t, what, cond)
}
