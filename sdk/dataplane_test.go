package sdk

import (
	"context"
	"testing"

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
