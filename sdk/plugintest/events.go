package plugintest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
	eventspb "github.com/sous-run/sous/sdk/proto/events"
)

// Events runs the events conformance suite against the target binary: the contract of
// sdk/proto/events, whatever the backend.
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

type esuite struct{ e eventspb.EventsClient }

// inv is one subtest's private tenant and invocation.
type inv struct {
	t          *testing.T
	e          eventspb.EventsClient
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
	r, err := v.e.Publish(bg, &eventspb.PublishRequest{Tenant: v.tenant, InvocationId: v.id, Envelopes: envs})
	if err != nil {
		v.t.Fatalf("Publish: %v", err)
	}
	if len(r.Ids) != len(envs) {
		v.t.Fatalf("Publish of %d envelopes returned %d ids", len(envs), len(r.Ids))
	}
	return r.Ids
}

// read collects a whole Read (until the stream ends) within 30 s.
func (v *inv) read(after string, noFollow bool) []*eventspb.Event {
	v.t.Helper()
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	st, err := v.e.Read(ctx, &eventspb.ReadRequest{Tenant: v.tenant, InvocationId: v.id, AfterId: after, NoFollow: noFollow})
	if err != nil {
		v.t.Fatalf("Read: %v", err)
	}
	var out []*eventspb.Event
	for {
		ev, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			v.t.Fatalf("Read after %q: %v (got %d events)", after, err, len(out))
		}
		out = append(out, ev)
	}
}

func wantEvents(t testing.TB, got []*eventspb.Event, ids []string, envs [][]byte) {
	t.Helper()
	if len(got) != len(ids) {
		t.Fatalf("read %d events, want %d", len(got), len(ids))
	}
	for i := range got {
		if got[i].Id != ids[i] || string(got[i].Envelope) != string(envs[i]) {
			t.Fatalf("event %d = %s %s, want %s %s", i, got[i].Id, got[i].Envelope, ids[i], envs[i])
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
	wantEvents(t, v.read("", true), ids, envs)
	wantEvents(t, v.read("0", true), ids, envs)
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
		wantEvents(t, v.read(ids[i], false), ids[i+1:], envs[i+1:])
	}
}

func (s *esuite) blocking(t *testing.T) {
	v := s.inv(t)
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	st, err := v.e.Read(ctx, &eventspb.ReadRequest{Tenant: v.tenant, InvocationId: v.id})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	got := make(chan *eventspb.Event, 16)
	var end error // set before got is closed
	go func() {
		defer close(got)
		for {
			ev, err := st.Recv()
			if err != nil {
				end = err
				return
			}
			got <- ev
		}
	}()
	recv := func() *eventspb.Event {
		select {
		case ev, ok := <-got:
			if !ok {
				t.Fatalf("Read ended early: %v", end)
			}
			return ev
		case <-ctx.Done():
			t.Fatalf("a blocked Read did not wake on Publish")
		}
		return nil
	}
	time.Sleep(200 * time.Millisecond) // let the reader block on the empty log
	for i := int64(1); i <= 3; i++ {
		e := chunk(t, i)
		id := v.publish(e)[0]
		if ev := recv(); ev.Id != id || string(ev.Envelope) != string(e) {
			t.Fatalf("woke with %s %s, want %s %s", ev.Id, ev.Envelope, id, e)
		}
	}
	v.publish(env(t, envelope.Done()))
	recv()
	select {
	case _, ok := <-got:
		if ok || !errors.Is(end, io.EOF) {
			t.Fatalf("Read after done went on (more=%v, end %v), want the end of the stream", ok, end)
		}
	case <-ctx.Done():
		t.Fatalf("Read did not end after done")
	}
}

func (s *esuite) endsAfterDone(t *testing.T) {
	v := s.inv(t)
	envs := [][]byte{chunk(t, 1), env(t, &envelope.Envelope{Type: envelope.TypeResult, Output: []byte(`1`)}), env(t, envelope.Done())}
	ids := v.publish(envs...)
	wantEvents(t, v.read("", false), ids, envs)
	wantEvents(t, v.read(ids[0], false), ids[1:], envs[1:])
	wantEvents(t, v.read(ids[2], false), nil, nil) // resuming after done ends at once
	v.publish(chunk(t, 99))                        // a late event after done is not read by a follower
	wantEvents(t, v.read("", false), ids, envs)
	empty := s.inv(t)
	if got := empty.read("", true); len(got) != 0 {
		t.Fatalf("no_follow on an empty log read %d events", len(got))
	}
}

func (s *esuite) concurrent(t *testing.T) {
	const n = 8
	invs := make([]*inv, n)
	results := make([][]*eventspb.Event, n)
	var wg sync.WaitGroup
	for i := range invs {
		invs[i] = s.inv(t)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = invs[i].read("", false)
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
			if ev.Id != want[i][k] {
				t.Fatalf("invocation %d event %d id %s, want %s", i, k, ev.Id, want[i][k])
			}
		}
	}
}

func (s *esuite) expire(t *testing.T) {
	v := s.inv(t)
	v.publish(chunk(t, 1), env(t, envelope.Done()))
	if _, err := v.e.Expire(bg, &eventspb.ExpireRequest{Tenant: v.tenant, InvocationId: v.id, TtlSeconds: 1}); err != nil {
		t.Fatalf("Expire: %v", err)
	}
	end := time.Now().Add(30 * time.Second)
	for len(v.read("", true)) > 0 {
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
	if got := b.read("", true); len(got) != 0 {
		t.Fatalf("tenant B read %d events of tenant A's invocation", len(got))
	}
}

func (s *esuite) badInput(t *testing.T) {
	v := s.inv(t)
	_, err := v.e.Publish(bg, &eventspb.PublishRequest{Tenant: v.tenant, Envelopes: [][]byte{chunk(t, 1)}})
	wantCode(t, err, codes.InvalidArgument, "Publish without an invocation id")
	_, err = v.e.Publish(bg, &eventspb.PublishRequest{Tenant: v.tenant, InvocationId: v.id, Envelopes: [][]byte{[]byte("not json")}})
	wantCode(t, err, codes.InvalidArgument, "Publish of an envelope that is not a JSON object")
	if got := v.read("", true); len(got) != 0 {
		t.Fatalf("a refused Publish stored %d events", len(got))
	}
}
