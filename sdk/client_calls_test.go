package sdk

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	basepb "github.com/sous-run/sous/sdk/proto/base"
	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

const messagingMethod = "/sous.messaging.v1.Messaging/"

// callsQueue is a fakeQueue whose Enqueue of command "block" waits for its context
// (and says so on entered), and whose Extend reports the deadline it was given.
type callsQueue struct {
	fakeQueue
	entered  chan struct{}
	left     chan struct{} // a blocked Enqueue's context ended
	deadline chan time.Duration
}

func (q *callsQueue) Enqueue(ctx context.Context, t Task) (Enqueued, error) {
	if t.Command == "block" {
		q.entered <- struct{}{}
		<-ctx.Done()
		q.left <- struct{}{}
		return Enqueued{}, fmt.Errorf("enqueue: %w", ctx.Err())
	}
	return q.fakeQueue.Enqueue(ctx, t)
}

func (q *callsQueue) Extend(ctx context.Context, _ Lease, d time.Duration) (time.Time, error) {
	if dl, ok := ctx.Deadline(); ok {
		q.deadline <- time.Until(dl)
	} else {
		q.deadline <- 0
	}
	return time.UnixMilli(1_700_000_000_000).Add(d), nil
}

func newCallsQueue() *callsQueue {
	return &callsQueue{entered: make(chan struct{}, 1), left: make(chan struct{}, 1), deadline: make(chan time.Duration, 1)}
}

// noCalls is a messaging service from before Calls.
type noCalls struct {
	messagingpb.UnimplementedMessagingServer
	s *messagingServer
}

func (n noCalls) Consume(st messagingpb.Messaging_ConsumeServer) error { return n.s.Consume(st) }

func (n noCalls) Enqueue(ctx context.Context, q *messagingpb.EnqueueRequest) (*messagingpb.EnqueueResponse, error) {
	return n.s.Enqueue(ctx, q)
}

// serveQueue serves q (configured), with Calls or as a plugin from before it.
func serveQueue(t *testing.T, q Messaging, withCalls bool) (*countingServer, *messagingClient) {
	t.Helper()
	cs := serveWith(t, func(srv *grpc.Server) {
		b := &baseServer{b: q}
		b.configured.Store(true)
		basepb.RegisterBaseServer(srv, b)
		ms := &messagingServer{baseServer: b, m: q}
		if withCalls {
			messagingpb.RegisterMessagingServer(srv, ms)
		} else {
			messagingpb.RegisterMessagingServer(srv, noCalls{s: ms})
		}
	})
	return cs, NewMessagingClient(cs.dial(t)).(*messagingClient)
}

// openedPlane calls Enqueue until the client's Calls plane is open and returns it.
func openedPlane(t *testing.T, m *messagingClient) *callPlane[*messagingpb.Call, *messagingpb.CallReply] {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if _, err := m.Enqueue(context.Background(), Task{Tenant: "t", Command: "warm"}); err != nil {
			t.Fatal(err)
		}
		m.calls.mu.Lock()
		p := m.calls.plane
		m.calls.mu.Unlock()
		if p != nil && p.alive() {
			return p
		}
	}
	t.Fatal("the Calls plane did not open")
	return nil
}

// TestCallsTravelOnTheDataPlane: once the plane is open, Enqueue, Ack, Fail, Nack and
// Extend reach the driver with no unary call and no message on the Calls stream, and
// their answers and error kinds are those of the unary calls.
func TestCallsTravelOnTheDataPlane(t *testing.T) {
	q := newCallsQueue()
	cs, m := serveQueue(t, q, true)
	openedPlane(t, m)
	unary := func() (n int32) {
		for _, c := range []string{"Enqueue", "Ack", "Fail", "Nack", "Extend"} {
			n += cs.counter(messagingMethod + c).Load()
		}
		return n
	}
	before := unary()
	ctx := context.Background()
	if r, err := m.Enqueue(ctx, Task{Tenant: "t", Command: "cmd"}); err != nil || r.ID != "id-cmd" {
		t.Fatalf("Enqueue = %+v, %v", r, err)
	}
	l := Lease{Tenant: "t", TaskID: "t1", ID: "l1"}
	if err := m.Ack(ctx, l, []byte(`{}`)); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if _, err := m.Fail(ctx, l, "boom", false); err != nil {
		t.Fatalf("Fail: %v", err)
	}
	if _, err := m.Nack(ctx, l, time.Second, "later"); err != nil {
		t.Fatalf("Nack: %v", err)
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	until, err := m.Extend(dctx, l, 30*time.Second)
	if want := time.UnixMilli(1_700_000_000_000).Add(30 * time.Second); err != nil || !until.Equal(want) {
		t.Fatalf("Extend = %v, %v; want %v", until, err, want)
	}
	if d := <-q.deadline; d < 9*time.Second || d > 10*time.Second+time.Millisecond {
		t.Fatalf("the driver's deadline is %v from now; the caller's was 10s", d)
	}
	for _, kind := range []error{ErrNotFound, ErrRefused, ErrUnavailable, ErrInternal} {
		q.ackErr = fmt.Errorf("lease l1: %w", kind)
		err := m.Ack(ctx, l, []byte(`{}`))
		if !errors.Is(err, kind) || err.Error() != q.ackErr.Error() {
			t.Errorf("Ack failing with %q: got %v (kind %v)", q.ackErr, err, kind)
		}
	}
	if n := unary() - before; n != 0 {
		t.Fatalf("%d unary calls after the plane opened; want none", n)
	}
	if n := cs.msgs.Load(); n != 0 {
		t.Fatalf("the Calls stream received %d messages; want every call on the data plane", n)
	}
}

// TestCallsEndWithTheirContext: a call whose caller gives up returns the context's
// error at once, the driver's call is cancelled with it, and the plane goes on.
func TestCallsEndWithTheirContext(t *testing.T) {
	q := newCallsQueue()
	_, m := serveQueue(t, q, true)
	p := openedPlane(t, m)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := m.Enqueue(ctx, Task{Tenant: "t", Command: "block"})
		done <- err
	}()
	<-q.entered
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Enqueue past its deadline: %v", err)
	}
	select {
	case <-q.left:
	case <-time.After(5 * time.Second):
		t.Fatal("the driver's Enqueue was not cancelled with its caller's deadline")
	}
	if r, err := m.Enqueue(context.Background(), Task{Tenant: "t", Command: "after"}); err != nil || r.ID != "id-after" {
		t.Fatalf("the next Enqueue = %+v, %v", r, err)
	}
	if !p.alive() {
		t.Fatal("a call's deadline broke the plane")
	}
}

// TestCallsPlaneBreakIsUnavailable: a call in flight when the plane's connection
// breaks fails Unavailable (so the host's retries apply), later calls go unary, and a
// new plane is opened.
func TestCallsPlaneBreakIsUnavailable(t *testing.T) {
	q := newCallsQueue()
	_, m := serveQueue(t, q, true)
	p := openedPlane(t, m)
	done := make(chan error, 1)
	go func() {
		_, err := m.Enqueue(context.Background(), Task{Tenant: "t", Command: "block"})
		done <- err
	}()
	<-q.entered
	p.fc.close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrUnavailable) || status.Code(err) != codes.Unavailable {
			t.Fatalf("call on a broken plane: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a call on a broken plane did not return")
	}
	if r, err := m.Enqueue(context.Background(), Task{Tenant: "t", Command: "next"}); err != nil || r.ID != "id-next" {
		t.Fatalf("Enqueue after the break = %+v, %v", r, err)
	}
	if np := openedPlane(t, m); np == p {
		t.Fatal("the broken plane was kept")
	}
}

// TestCallsFromAPluginWithoutThem: a plugin built before Calls answers it
// Unimplemented; the calls stay unary and work.
func TestCallsFromAPluginWithoutThem(t *testing.T) {
	cs, m := serveQueue(t, newCallsQueue(), false)
	for i := range 20 {
		r, err := m.Enqueue(context.Background(), Task{Tenant: "t", Command: "c"})
		if err != nil || r.ID != "id-c" {
			t.Fatalf("Enqueue %d = %+v, %v", i, r, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if n := cs.counter(messagingMethod + "Enqueue").Load(); n != 20 {
		t.Fatalf("%d unary Enqueue calls; want all 20", n)
	}
	if n := cs.counter(messagingMethod + "Calls").Load(); n != 1 {
		t.Fatalf("Calls was tried %d times; want once (then not for %v)", n, callsRetryOldAPI)
	}
}
