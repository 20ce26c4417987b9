package sdk

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"

	basepb "github.com/sous-run/sous/sdk/proto/base"
	eventspb "github.com/sous-run/sous/sdk/proto/events"
)

// refusingLog is a fakeLog whose Expire of invocation "missing" fails with err.
type refusingLog struct {
	fakeLog
	err error
}

func (l *refusingLog) Expire(ctx context.Context, tenant, id string, ttl time.Duration) error {
	if id == "missing" {
		return l.err
	}
	return l.fakeLog.Expire(ctx, tenant, id, ttl)
}

// TestEventsCallsTravelOnTheDataPlane: once the events Calls plane is open, Publish
// (with its TTL) and Expire reach the driver with no unary call and no message on the
// stream, and an error keeps its kind.
func TestEventsCallsTravelOnTheDataPlane(t *testing.T) {
	f := &refusingLog{err: Errorf(ErrNotFound, "no log missing")}
	cs := serveWith(t, func(srv *grpc.Server) {
		b := &baseServer{b: f}
		b.configured.Store(true)
		basepb.RegisterBaseServer(srv, b)
		eventspb.RegisterEventsServer(srv, &eventsServer{baseServer: b, e: f})
	})
	e := NewEventsClient(cs.dial(t)).(*eventsClient)
	ctx := context.Background()
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := e.Publish(ctx, "t", "i0", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		if p := e.calls.get(); p != nil {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the events Calls plane did not open")
		}
	}
	f.mu.Lock()
	f.calls = nil
	f.mu.Unlock()
	unary := func() int32 {
		return cs.counter("/sous.events.v1.Events/Publish").Load() + cs.counter("/sous.events.v1.Events/Expire").Load()
	}
	before := unary()
	ids, err := PublishLast(ctx, e, "t", "i1", time.Minute, []byte(`{"a":1}`), []byte(`{"b":2}`))
	if err != nil || len(ids) != 2 {
		t.Fatalf("PublishLast = %v, %v", ids, err)
	}
	if err := e.Expire(ctx, "t", "missing", time.Hour); !errors.Is(err, ErrNotFound) || err.Error() != f.err.Error() {
		t.Fatalf("Expire = %v; want %v", err, f.err)
	}
	if got, want := f.recorded(), []string{"publish 2", "expire 1m0s"}; !slices.Equal(got, want) {
		t.Fatalf("the driver got %v; want %v", got, want)
	}
	if n := unary() - before; n != 0 {
		t.Fatalf("%d unary calls after the plane opened; want none", n)
	}
	if n := cs.msgs.Load(); n != 0 {
		t.Fatalf("the Calls stream received %d messages; want every call on the data plane", n)
	}
}
