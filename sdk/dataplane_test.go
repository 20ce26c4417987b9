package sdk

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc"

	basepb "github.com/sous-run/sous/sdk/proto/base"
	executorpb "github.com/sous-run/sous/sdk/proto/executor"
)

// streamOnly serves Session as a plugin from before the data plane: runs travel on
// the stream.
type streamOnly struct {
	executorpb.UnimplementedExecutorServer
	s *executorServer
}

func (o streamOnly) Session(st executorpb.Executor_SessionServer) error { return o.s.session(st, nil) }

// serveStreamOnly serves f with Session but no data plane.
func serveStreamOnly(t testing.TB, f Executor) *countingServer {
	t.Helper()
	b := &baseServer{b: f}
	b.configured.Store(true)
	return serveWith(t, func(srv *grpc.Server) {
		basepb.RegisterBaseServer(srv, b)
		executorpb.RegisterExecutorServer(srv, streamOnly{s: &executorServer{baseServer: b, x: f}})
	})
}

// noopExecutor answers every run with one result envelope.
type noopExecutor struct{ fakeExecutor }

func (*noopExecutor) Run(_ context.Context, _ RunRequest, emit func([]byte) error) error {
	return emit([]byte(`{"type":"result","output":null}`))
}

// BenchmarkSessionRoundTrip is a trivial run's round trip through the client shim
// and the served driver (one process), on the data plane and on the Session stream.
func BenchmarkSessionRoundTrip(b *testing.B) {
	for name, serve := range map[string]func(testing.TB, Executor) *countingServer{
		"dataplane": func(t testing.TB, f Executor) *countingServer { return serveExecutor(t, f, true) },
		"stream":    serveStreamOnly,
	} {
		b.Run(name, func(b *testing.B) {
			x := configuredClient(b, serve(b, &noopExecutor{}).dial(b))
			req := RunRequest{InvocationID: "bench"}
			for range b.N {
				if err := x.Run(context.Background(), req, func([]byte) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSessionRunsOnTheDataPlane: with a plugin offering the data plane, runs (and
// their cancels) travel there: the Session stream receives no message at all.
func TestSessionRunsOnTheDataPlane(t *testing.T) {
	f := &fakeExecutor{canceled: make(chan string, 1)}
	cs := serveExecutor(t, f, true)
	x := configuredClient(t, cs.dial(t))
	runEchoes(t, f, x, 8)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := collect(ctx, x, RunRequest{InvocationID: "blocked", Function: "block"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("run past its deadline: got %v", err)
	}
	if id := <-f.canceled; id != "blocked" {
		t.Fatalf("plugin cancelled %q", id)
	}
	if n := cs.msgs.Load(); n != 0 {
		t.Fatalf("the Session stream received %d messages; want every run on the data plane", n)
	}
}

// TestSessionWithoutDataPlaneUsesTheStream: a plugin whose Session offers no data
// plane (one from before it) gets the runs, their errors and cancels on the stream.
func TestSessionWithoutDataPlaneUsesTheStream(t *testing.T) {
	f := &fakeExecutor{canceled: make(chan string, 1)}
	cs := serveStreamOnly(t, f)
	x := configuredClient(t, cs.dial(t))
	runEchoes(t, f, x, 4)
	if _, err := collect(context.Background(), x, RunRequest{Function: "fail", Input: []byte("exhausted")}); !errors.Is(err, ErrExhausted) {
		t.Fatalf("error kind on the stream: got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := collect(ctx, x, RunRequest{InvocationID: "blocked", Function: "block"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: got %v", err)
	}
	if id := <-f.canceled; id != "blocked" {
		t.Fatalf("plugin cancelled %q", id)
	}
	if s, n := cs.count("Session"), cs.msgs.Load(); s != 1 || n < 6 {
		t.Fatalf("Session streams %d, messages on them %d; want one stream carrying every run", s, n)
	}
}

// TestDataPlaneRefusesAWrongToken: the socket serves only the host that read the
// Session's headers.
func TestDataPlaneRefusesAWrongToken(t *testing.T) {
	l := listenDataPlane()
	if l == nil {
		t.Fatal("no data plane")
	}
	defer l.close()
	path := l.lis.Addr().String()
	accepted := make(chan error, 1)
	go func() {
		_, err := l.accept()
		accepted <- err
	}()
	if fc := dialDataPlane(path, hex.EncodeToString(make([]byte, tokenLen))); fc != nil {
		t.Fatal("a wrong token was accepted")
	}
	if err := <-accepted; err == nil {
		t.Fatal("accept took a connection with a wrong token")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the socket outlived its one connection: %v", err)
	}
}
