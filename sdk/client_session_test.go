package sdk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	executorpb "github.com/sous-run/sous/sdk/proto/executor"
)

// fakeExecutor runs by function name: "echo" emits a log and a result naming its
// input, after every run of the batch has started (so runs interleave); "fail" emits
// a log and fails with the kind its input names; "block" waits for its context;
// "gated" emits a result once the gate its input names is closed, "logged" a log
// first.
type fakeExecutor struct {
	batch    sync.WaitGroup           // echo runs wait for it
	canceled chan string              // block runs report their end here
	started  chan struct{}            // block runs report their start here, if set
	gates    map[string]chan struct{} // gated runs wait for theirs
}

func (f *fakeExecutor) Info() Info                              { return Info{Kind: KindExecutor, Driver: "fake"} }
func (f *fakeExecutor) Configure(context.Context, Config) error { return nil }
func (f *fakeExecutor) Health(context.Context) Health           { return Health{Healthy: true} }
func (f *fakeExecutor) Prepare(context.Context, FunctionSpec) (bool, error) {
	return false, nil
}

var fakeKinds = map[string]error{"not_found": ErrNotFound, "invalid": ErrInvalid, "exhausted": ErrExhausted,
	"unavailable": ErrUnavailable, "deadline": context.DeadlineExceeded}

func (f *fakeExecutor) Run(ctx context.Context, req RunRequest, emit func([]byte) error) error {
	switch req.Function {
	case "echo":
		if err := emit(fmt.Appendf(nil, `{"type":"log","text":%s}`, req.Input)); err != nil {
			return err
		}
		f.batch.Done()
		f.batch.Wait()
		return emit(fmt.Appendf(nil, `{"type":"result","output":%s}`, req.Input))
	case "fail":
		if err := emit([]byte(`{"type":"log","text":"failing"}`)); err != nil {
			return err
		}
		return fmt.Errorf("fake run: %w", fakeKinds[string(req.Input)])
	case "block":
		if f.started != nil {
			f.started <- struct{}{}
		}
		<-ctx.Done()
		f.canceled <- req.InvocationID
		return ctx.Err()
	case "logged", "gated":
		if req.Function == "logged" {
			if err := emit([]byte(`{"type":"log","text":"waiting"}`)); err != nil {
				return err
			}
		}
		<-f.gates[string(req.Input)]
		return emit([]byte(`{"type":"result","output":"gated"}`))
	}
	return fmt.Errorf("fake: %w: no function %q", ErrNotFound, req.Function)
}

// countingServer serves an executor on a bufconn and counts the streams opened per
// method; withSession false serves it as a plugin from before Session.
type countingServer struct {
	srv   *grpc.Server
	lis   *bufconn.Listener
	calls sync.Map     // method -> *atomic.Int32, streams and unary calls
	msgs  atomic.Int32 // messages received on streams
}

func serveExecutor(t testing.TB, f Executor, withSession bool) *countingServer {
	t.Helper()
	return serveWith(t, func(srv *grpc.Server) {
		if withSession {
			if err := (Plugin{Executor: f}).Register(srv); err != nil {
				t.Fatal(err)
			}
			return
		}
		b := &baseServer{b: f}
		b.configured.Store(true)
		executorpb.RegisterExecutorServer(srv, runOnly{s: &executorServer{baseServer: b, x: f}})
	})
}

// serveWith serves what register adds on a bufconn, counting streams and the
// messages received on them.
func serveWith(t testing.TB, register func(*grpc.Server)) *countingServer {
	cs := &countingServer{lis: bufconn.Listen(1 << 20)}
	cs.srv = grpc.NewServer(grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		cs.counter(info.FullMethod).Add(1)
		return h(srv, countingStream{ss, &cs.msgs})
	}), grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		cs.counter(info.FullMethod).Add(1)
		return h(ctx, req)
	}))
	register(cs.srv)
	go func() { _ = cs.srv.Serve(cs.lis) }()
	t.Cleanup(cs.srv.Stop)
	return cs
}

// countingStream counts the messages a server stream receives.
type countingStream struct {
	grpc.ServerStream
	n *atomic.Int32
}

func (s countingStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil {
		s.n.Add(1)
	}
	return err
}

// runOnly is an executor service from before Session.
type runOnly struct {
	executorpb.UnimplementedExecutorServer
	s *executorServer
}

func (o runOnly) Run(req *executorpb.RunRequest, out executorpb.Executor_RunServer) error {
	return o.s.Run(req, out)
}

func (cs *countingServer) count(method string) int32 {
	return cs.counter("/sous.executor.v1.Executor/" + method).Load()
}

// counter counts the calls of a method (its full name).
func (cs *countingServer) counter(method string) *atomic.Int32 {
	n, _ := cs.calls.LoadOrStore(method, new(atomic.Int32))
	return n.(*atomic.Int32)
}

func (cs *countingServer) dial(t testing.TB) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient("passthrough:///buf", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return cs.lis.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// configuredClient returns an Executor client to cs, configured.
func configuredClient(t testing.TB, cc grpc.ClientConnInterface) Executor {
	t.Helper()
	x := NewExecutorClient(cc)
	if err := x.Configure(context.Background(), Config{}); err != nil {
		t.Fatal(err)
	}
	return x
}

func collect(ctx context.Context, x Executor, req RunRequest) ([]string, error) {
	var got []string
	err := x.Run(ctx, req, func(e []byte) error { got = append(got, string(e)); return nil })
	return got, err
}

// runEchoes runs n echo runs at once and checks each got its own envelopes in order.
func runEchoes(t *testing.T, f *fakeExecutor, x Executor, n int) {
	t.Helper()
	f.batch.Add(n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := fmt.Sprintf(`"run-%d"`, i)
			got, err := collect(context.Background(), x, RunRequest{InvocationID: in, Function: "echo", Input: []byte(in)})
			want := []string{`{"type":"log","text":` + in + `}`, `{"type":"result","output":` + in + `}`}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("run %d: got %q, %v; want %q", i, got, err, want)
			}
		}()
	}
	wg.Wait()
}

func TestSessionInterleavesConcurrentRuns(t *testing.T) {
	f := &fakeExecutor{}
	cs := serveExecutor(t, f, true)
	x := configuredClient(t, cs.dial(t))
	runEchoes(t, f, x, 16)
	runEchoes(t, f, x, 3)
	if s, r := cs.count("Session"), cs.count("Run"); s != 1 || r != 0 {
		t.Fatalf("streams: Session %d, Run %d; want one Session and no Run", s, r)
	}
}

func TestSessionCarriesErrorKinds(t *testing.T) {
	f := &fakeExecutor{}
	cs := serveExecutor(t, f, true)
	cc := cs.dial(t)
	// Before Configure, the not-configured gate answers in-band too (as ErrRefused,
	// which ErrNotConfigured wraps, like over Run).
	if _, err := collect(context.Background(), NewExecutorClient(cc), RunRequest{Function: "echo"}); !errors.Is(err, ErrRefused) {
		t.Fatalf("unconfigured: got %v, want ErrRefused", err)
	}
	x := configuredClient(t, cc)
	for name, kind := range fakeKinds {
		got, err := collect(context.Background(), x, RunRequest{Function: "fail", Input: []byte(name)})
		if !errors.Is(err, kind) || len(got) != 1 {
			t.Errorf("%s: got %q, %v; want one log and %v", name, got, err, kind)
		}
	}
	if _, err := collect(context.Background(), x, RunRequest{Function: "nope"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown function: got %v, want ErrNotFound", err)
	}
}

func TestSessionCancelEndsTheRunInThePlugin(t *testing.T) {
	f := &fakeExecutor{canceled: make(chan string, 1)}
	cs := serveExecutor(t, f, true)
	x := configuredClient(t, cs.dial(t))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := collect(ctx, x, RunRequest{InvocationID: "blocked", Function: "block"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: got %v, want context.Canceled", err)
	}
	select {
	case id := <-f.canceled:
		if id != "blocked" {
			t.Fatalf("plugin cancelled %q", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the plugin's run was not cancelled")
	}
	// An emit error cancels too, and the session keeps serving.
	boom := errors.New("boom")
	if err := x.Run(context.Background(), RunRequest{Function: "fail", Input: []byte("invalid")},
		func([]byte) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("emit error: got %v, want it back", err)
	}
	runEchoes(t, f, x, 2)
	if s := cs.count("Session"); s != 1 {
		t.Fatalf("Session streams: %d, want 1", s)
	}
}

func TestSessionFallsBackToRun(t *testing.T) {
	f := &fakeExecutor{}
	cs := serveExecutor(t, f, false)
	x := NewExecutorClient(cs.dial(t))
	runEchoes(t, f, x, 4)
	if _, err := collect(context.Background(), x, RunRequest{Function: "fail", Input: []byte("exhausted")}); !errors.Is(err, ErrExhausted) {
		t.Fatalf("error kind over Run: got %v", err)
	}
	if s, r := cs.count("Session"), cs.count("Run"); s != 1 || r != 5 {
		t.Fatalf("streams: Session %d, Run %d; want one Session tried, then Run per run", s, r)
	}
}

// switchConn forwards to the connection of the moment, as the host's plugin proxy
// does across plugin restarts.
type switchConn struct {
	mu sync.Mutex
	cc *grpc.ClientConn
}

func (s *switchConn) get() *grpc.ClientConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cc
}

func (s *switchConn) Invoke(ctx context.Context, m string, args, reply any, opts ...grpc.CallOption) error {
	return s.get().Invoke(ctx, m, args, reply, opts...)
}

func (s *switchConn) NewStream(ctx context.Context, d *grpc.StreamDesc, m string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return s.get().NewStream(ctx, d, m, opts...)
}

func TestSessionReopensAfterTheStreamBreaks(t *testing.T) {
	f1 := &fakeExecutor{canceled: make(chan string, 1), started: make(chan struct{}, 1)}
	old := serveExecutor(t, f1, true)
	sw := &switchConn{cc: old.dial(t)}
	x := configuredClient(t, sw)
	runEchoes(t, f1, x, 2)

	done := make(chan error, 1)
	go func() {
		_, err := collect(context.Background(), x, RunRequest{Function: "block"})
		done <- err
	}()
	<-f1.started // the run is in flight
	old.srv.Stop()
	select {
	case err := <-done:
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("run on the broken stream: got %v, want it to fail as a broken Run stream does", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the run on the broken stream did not end")
	}

	f2 := &fakeExecutor{}
	restarted := serveExecutor(t, f2, true)
	sw.mu.Lock()
	sw.cc = restarted.dial(t)
	sw.mu.Unlock()
	if err := x.Configure(context.Background(), Config{}); err != nil {
		t.Fatal(err)
	}
	runEchoes(t, f2, x, 3)
	if s := restarted.count("Session"); s != 1 {
		t.Fatalf("Session streams on the restarted plugin: %d, want 1", s)
	}
	if n := old.msgs.Load() + restarted.msgs.Load(); n != 0 {
		t.Fatalf("%d messages on the Session streams; want the runs on both plugins' data planes", n)
	}
}
