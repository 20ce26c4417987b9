package plugintest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// Events runs the events conformance suite against the target binary: the contract of
// sdk.Events, whatever the backend.
func Events(t *testing.T, tg Target) {
	c := Launch(t, tg, sdk.KindEvents)
	s := &esuite{e: c.Events}
	t.Run("OrderAndIDs", s.order)
	t.Run("ResumeFromAnyID", s.resume)
	t.Run("BlockingReadWakesOnPublish", s.blocking)
	t.Run("EndsAfterDone", s.endsAfterDone)
	t.Run("ConcurrentInvocations", s.concurrent)
	t.Run("Expire", s.expire)
	t.Run("TenantIsolation", s.tenants)
	t.Run("BadInput", s.badInput)
}

type esuite struct{ e sdk.Events }

// inv is one subtest's private tenant and invocation.
type inv struct {
	t          *testing.T
	e          sdk.Events
	tenant, id string
}

func (s *esuite) inv(t *testing.T) *inv {
	return &inv{t: t, e: s.e, tenant: "tenant-" + randHex(4), id: "inv-" + randHex(6)}
}

func env(t testing.TB, e *envelope.Envelope) []byte {
	t.Helper()
	b, err := envelope.Marshal(e)
	if err != nil {
		t.Fatalf("marshal envelope: %v", err)
	}
	return b
}

func chunk(t testing.TB, seq int64) []byte {
	return env(t, &envelope.Envelope{Type: envelope.TypeChunk, Data: []byte(fmt.Sprintf(`"part %d"`, seq)), Seq: seq})
}

func (v *inv) publish(envs ...[]byte) []string {
	v.t.Helper()
	ids, err := v.e.Publish(bg, v.tenant, v.id, envs...)
	if err != nil {
		v.t.Fatalf("Publish: %v", err)
	}
	if len(ids) != len(envs) {
		v.t.Fatalf("Publish of %d envelopes returned %d ids", len(envs), len(ids))
	}
	return ids
}

// read collects a whole Read (until the stream ends) within 30 s.
func (v *inv) read(after string, follow bool) []sdk.Event {
	v.t.Helper()
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	var out []sdk.Event
	err := v.e.Read(ctx, v.tenant, v.id, after, follow, func(ev sdk.Event) error {
		out = append(out, ev)
		return nil
	})
	if err != nil {
		v.t.Fatalf("Read after %q: %v (got %d events)", after, err, len(out))
	}
	return out
}

func wantEvents(t testing.TB, got []sdk.Event, ids []string, envs [][]byte) {
	t.Helper()
	if len(got) != len(ids) {
		t.Fatalf("read %d events, want %d", len(got), len(ids))
	}
	for i := range got {
		if got[i].ID != ids[i] || string(got[i].Envelope) != string(envs[i]) {
			t.Fatalf("event %d = %s %s, want %s %s", i, got[i].ID, got[i].Envelope, ids[i], envs[i])
		}
	}
}

func (s *esuite) order(t *testing.T) {
	v := s.inv(t)
	envs := [][]byte{env(t, &envelope.Envelope{Type: envelope.TypeStatus, Status: "running", Attempt: 1}), chunk(t, 1), chunk(t, 2)}
	ids := v.publish(envs...)
	more := [][]byte{chunk(t, 3), env(t, &envelope.Envelope{Type: envelope.TypeResult, Output: []byte(`{"ok":true}`)})}
	ids = append(ids, v.publish(more...)...)
	envs = append(envs, more...)
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" || seen[id] {
			t.Fatalf("ids %v: empty or repeated", ids)
		}
		seen[id] = true
	}
	wantEvents(t, v.read("", false), ids, envs)
	wantEvents(t, v.read("0", false), ids, envs)
}

func (s *esuite) resume(t *testing.T) {
	v := s.inv(t)
	var envs [][]byte
	for i := int64(1); i <= 5; i++ {
		envs = append(envs, chunk(t, i))
	}
	envs = append(envs, env(t, envelope.Done()))
	ids := v.publish(envs...)
	for i := range ids {
		wantEvents(t, v.read(ids[i], true), ids[i+1:], envs[i+1:])
	}
}

func (s *esuite) blocking(t *testing.T) {
	v := s.inv(t)
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	st := Follow(ctx, v.e, v.tenant, v.id, "")
	recv := func() sdk.Event {
		select {
		case ev, ok := <-st.C:
			if !ok {
				t.Fatalf("Read ended early: %v", st.Err())
			}
			return ev
		case <-ctx.Done():
			t.Fatalf("a blocked Read did not wake on Publish")
		}
		return sdk.Event{}
	}
	time.Sleep(200 * time.Millisecond) // let the reader block on the empty log
	for i := int64(1); i <= 3; i++ {
		e := chunk(t, i)
		id := v.publish(e)[0]
		if ev := recv(); ev.ID != id || string(ev.Envelope) != string(e) {
			t.Fatalf("woke with %s %s, want %s %s", ev.ID, ev.Envelope, id, e)
		}
	}
	v.publish(env(t, envelope.Done()))
	recv()
	select {
	case _, ok := <-st.C:
		if ok || st.Err() != nil {
			t.Fatalf("Read after done went on (more=%v, end %v), want the end of the stream", ok, st.Err())
		}
	case <-ctx.Done():
		t.Fatalf("Read did not end after done")
	}
}

func (s *esuite) endsAfterDone(t *testing.T) {
	v := s.inv(t)
	envs := [][]byte{chunk(t, 1), env(t, &envelope.Envelope{Type: envelope.TypeResult, Output: []byte(`1`)}), env(t, envelope.Done())}
	ids := v.publish(envs...)
	wantEvents(t, v.read("", true), ids, envs)
	wantEvents(t, v.read(ids[0], true), ids[1:], envs[1:])
	wantEvents(t, v.read(ids[2], true), nil, nil) // resuming after done ends at once
	v.publish(chunk(t, 99))                       // a late event after done is not read by a follower
	wantEvents(t, v.read("", true), ids, envs)
	empty := s.inv(t)
	if got := empty.read("", false); len(got) != 0 {
		t.Fatalf("no_follow on an empty log read %d events", len(got))
	}
}

func (s *esuite) concurrent(t *testing.T) {
	const n = 8
	invs := make([]*inv, n)
	results := make([][]sdk.Event, n)
	var wg sync.WaitGroup
	for i := range invs {
		invs[i] = s.inv(t)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = invs[i].read("", true)
		}(i)
	}
	time.Sleep(200 * time.Millisecond) // every reader blocks on its empty log
	want := make([][]string, n)
	var pw sync.WaitGroup
	for i := n - 1; i >= 0; i-- {
		pw.Add(1)
		go func(i int) {
			defer pw.Done()
			for k := int64(1); k <= 5; k++ {
				want[i] = append(want[i], invs[i].publish(chunk(t, k))...)
			}
			want[i] = append(want[i], invs[i].publish(env(t, envelope.Done()))...)
		}(i)
	}
	pw.Wait()
	wg.Wait()
	for i := range invs {
		if len(results[i]) != 6 {
			t.Fatalf("invocation %d read %d events, want its own 6", i, len(results[i]))
		}
		for k, ev := range results[i] {
			if ev.ID != want[i][k] {
				t.Fatalf("invocation %d event %d id %s, want %s", i, k, ev.ID, want[i][k])
			}
		}
	}
}

func (s *esuite) expire(t *testing.T) {
	v := s.inv(t)
	v.publish(chunk(t, 1), env(t, envelope.Done()))
	if err := v.e.Expire(bg, v.tenant, v.id, time.Second); err != nil {
		t.Fatalf("Expire: %v", err)
	}
	end := time.Now().Add(30 * time.Second)
	for len(v.read("", false)) > 0 {
		if time.Now().After(end) {
			t.Fatalf("events still readable 30s after Expire(1s)")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *esuite) tenants(t *testing.T) {
	a, b := s.inv(t), s.inv(t)
	b.id = a.id
	a.publish(chunk(t, 1), env(t, envelope.Done()))
	if got := b.read("", false); len(got) != 0 {
		t.Fatalf("tenant B read %d events of tenant A's invocation", len(got))
	}
}

func (s *esuite) badInput(t *testing.T) {
	v := s.inv(t)
	_, err := v.e.Publish(bg, v.tenant, "", chunk(t, 1))
	wantKind(t, err, sdk.ErrInvalid, "Publish without an invocation id")
	_, err = v.e.Publish(bg, v.tenant, v.id, []byte("not json"))
	wantKind(t, err, sdk.ErrInvalid, "Publish of an envelope that is not a JSON object")
	if got := v.read("", false); len(got) != 0 {
		t.Fatalf("a refused Publish stored %d events", len(got))
	}
}
