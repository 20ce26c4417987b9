package sdk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	basepb "github.com/sous-run/sous/sdk/proto/base"
	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

// fakeQueue is a Messaging whose answers the test sets; asks records every Next max.
type fakeQueue struct {
	configErr error
	ackErr    error
	asks      chan int
	next      chan []Delivery
}

func (f *fakeQueue) Info() Info                              { return Info{Kind: KindMessaging, Driver: "fake"} }
func (f *fakeQueue) Configure(context.Context, Config) error { return f.configErr }
func (f *fakeQueue) Health(context.Context) Health           { return Health{Healthy: true} }
func (f *fakeQueue) Enqueue(_ context.Context, t Task) (Enqueued, error) {
	return Enqueued{ID: "id-" + t.Command}, nil
}
func (f *fakeQueue) Consume(context.Context, Subscription) (Consumer, error) { return f, nil }
func (f *fakeQueue) Ack(context.Context, Lease, []byte) error                { return f.ackErr }
func (f *fakeQueue) Fail(context.Context, Lease, string, bool) (bool, error) { return false, nil }
func (f *fakeQueue) Nack(context.Context, Lease, time.Duration, string) (bool, error) {
	return false, nil
}
func (f *fakeQueue) Extend(context.Context, Lease, time.Duration) (time.Time, error) {
	return time.Time{}, nil
}
func (f *fakeQueue) Result(context.Context, string, string) (TaskResult, error) {
	return TaskResult{}, nil
}
func (f *fakeQueue) Stats(context.Context, string, []string) ([]CommandStats, error) { return nil, nil }
func (f *fakeQueue) Close() error                                                    { return nil }

// Next reports max and hands out what the test queued.
func (f *fakeQueue) Next(ctx context.Context, max int) ([]Delivery, error) {
	f.asks <- max
	select {
	case ds := <-f.next:
		return ds, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// serveFake serves f in process and returns clients to it.
func serveFake(t *testing.T, f *fakeQueue) (basepb.BaseClient, messagingpb.MessagingClient) {
	t.Helper()
	cc := servePlugin(t, Plugin{Messaging: f})
	return basepb.NewBaseClient(cc), messagingpb.NewMessagingClient(cc)
}

// servePlugin serves p in process and returns a connection to it.
func servePlugin(t *testing.T, p Plugin) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	s := grpc.NewServer()
	if err := p.Register(s); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	cc, err := grpc.NewClient("passthrough:///buf", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

func TestGateUntilConfigured(t *testing.T) {
	ctx := context.Background()
	b, m := serveFake(t, &fakeQueue{})
	_, err := m.Enqueue(ctx, &messagingpb.EnqueueRequest{Task: &messagingpb.Task{Command: "c"}})
	if status.Code(err) != codes.FailedPrecondition || !errors.Is(FromStatus(err), ErrRefused) {
		t.Fatalf("Enqueue before Configure: %v, want FailedPrecondition", err)
	}
	if h, _ := b.Health(ctx, &basepb.HealthRequest{}); h.Healthy || h.Reason != notConfiguredReason {
		t.Fatalf("Health before Configure: %+v", h)
	}
	if _, err := b.Configure(ctx, &basepb.ConfigureRequest{}); err != nil {
		t.Fatal(err)
	}
	if r, err := m.Enqueue(ctx, &messagingpb.EnqueueRequest{Task: &messagingpb.Task{Command: "c"}}); err != nil || r.Id != "id-c" {
		t.Fatalf("Enqueue after Configure: %v %v", r, err)
	}
	if h, _ := b.Health(ctx, &basepb.HealthRequest{}); !h.Healthy {
		t.Fatalf("Health after Configure: %+v", h)
	}
}

func TestConfigureErrorCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want codes.Code
	}{
		{ConfigError("url is required"), codes.InvalidArgument},
		{WithKind(ErrInvalid, errors.New("bad port")), codes.InvalidArgument},
		{Errorf(ErrRefused, "already configured"), codes.FailedPrecondition},
		{errors.New("dial tcp: connection refused"), codes.Unavailable},
	} {
		b, _ := serveFake(t, &fakeQueue{configErr: tc.err})
		_, err := b.Configure(context.Background(), &basepb.ConfigureRequest{})
		if status.Code(err) != tc.want || status.Convert(err).Message() != tc.err.Error() {
			t.Errorf("Configure error %q: got %v, want %v with the driver's message", tc.err, err, tc.want)
		}
	}
}

func TestDriverErrorKinds(t *testing.T) {
	ctx := context.Background()
	f := &fakeQueue{}
	b, m := serveFake(t, f)
	if _, err := b.Configure(ctx, &basepb.ConfigureRequest{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		err  error
		want codes.Code
	}{
		{fmt.Errorf("task t1: %w", ErrNotFound), codes.NotFound},
		{Errorf(ErrRefused, "stale lease"), codes.FailedPrecondition},
		{fmt.Errorf("redis: %w", ErrUnavailable), codes.Unavailable},
		{errors.New("a bug"), codes.Internal},
	} {
		f.ackErr = tc.err
		_, err := m.Ack(ctx, &messagingpb.AckRequest{Tenant: "t", Id: "t1", LeaseId: "l"})
		if status.Code(err) != tc.want || status.Convert(err).Message() != tc.err.Error() {
			t.Errorf("Ack error %q: got %v, want %v", tc.err, err, tc.want)
		}
	}
}

// TestConsumeCredits: the driver is asked for at most the credits left, and not at
// all while none are.
func TestConsumeCredits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f := &fakeQueue{asks: make(chan int, 10), next: make(chan []Delivery, 10)}
	b, m := serveFake(t, f)
	if _, err := b.Configure(ctx, &basepb.ConfigureRequest{}); err != nil {
		t.Fatal(err)
	}
	st, err := m.Consume(ctx)
	if err != nil {
		t.Fatal(err)
	}
	send := func(r *messagingpb.ConsumeRequest) {
		if err := st.Send(r); err != nil {
			t.Fatal(err)
		}
	}
	credit := func(n int32) {
		send(&messagingpb.ConsumeRequest{Msg: &messagingpb.ConsumeRequest_Credit{Credit: &messagingpb.Credit{N: n}}})
	}
	send(&messagingpb.ConsumeRequest{Msg: &messagingpb.ConsumeRequest_Subscribe{Subscribe: &messagingpb.Subscribe{Commands: []string{"c"}}}})
	select {
	case n := <-f.asks:
		t.Fatalf("Next(%d) called before any credit", n)
	case <-time.After(200 * time.Millisecond):
	}
	credit(3)
	if n := <-f.asks; n != 3 {
		t.Fatalf("first Next asked for %d, want 3", n)
	}
	d := func(id string) Delivery { return Delivery{Task: Task{ID: id}, Lease: Lease{ID: "l-" + id}} }
	f.next <- []Delivery{d("a"), d("b")}
	for _, want := range []string{"a", "b"} {
		got, err := st.Recv()
		if err != nil || got.Task.Id != want || got.LeaseId != "l-"+want {
			t.Fatalf("delivery: %v %v, want %s", got, err, want)
		}
	}
	if n := <-f.asks; n != 1 {
		t.Fatalf("second Next asked for %d, want the 1 credit left", n)
	}
	f.next <- []Delivery{d("c")}
	if got, err := st.Recv(); err != nil || got.Task.Id != "c" {
		t.Fatalf("delivery: %v %v", got, err)
	}
	select {
	case n := <-f.asks:
		t.Fatalf("Next(%d) called with no credit left", n)
	case <-time.After(200 * time.Millisecond):
	}
	credit(2)
	if n := <-f.asks; n != 2 {
		t.Fatalf("Next after Credit{2} asked for %d", n)
	}
}

func TestConsumeWantsSubscribeFirst(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, m := serveFake(t, &fakeQueue{})
	if _, err := b.Configure(ctx, &basepb.ConfigureRequest{}); err != nil {
		t.Fatal(err)
	}
	st, err := m.Consume(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&messagingpb.ConsumeRequest{Msg: &messagingpb.ConsumeRequest_Credit{Credit: &messagingpb.Credit{N: 1}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("Credit before Subscribe: %v, want InvalidArgument", err)
	}
}

func TestWithKindKeepsMessage(t *testing.T) {
	err := Errorf(ErrNotFound, "task %s not found", "t1")
	if !errors.Is(err, ErrNotFound) || err.Error() != "task t1 not found" {
		t.Fatalf("Errorf: %v (is NotFound %v)", err, errors.Is(err, ErrNotFound))
	}
	inner := errors.New("dial")
	if w := WithKind(ErrUnavailable, inner); !errors.Is(w, inner) || errors.Is(w, ErrNotFound) {
		t.Fatalf("WithKind must wrap both the kind and the error, nothing else: %v", w)
	}
	if WithKind(ErrInvalid, nil) != nil {
		t.Fatal("WithKind(kind, nil) must be nil")
	}
}
