package worker

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/host/invocation"
	"github.com/sous-run/sous/sdk/envelope"
	executorpb "github.com/sous-run/sous/sdk/proto/executor"
)

// cutExecutor is an executor whose Run stream fails with err, as the plugin manager
// reports a plugin that exited under the call.
type cutExecutor struct {
	executorpb.ExecutorClient
	err error
}

func (c cutExecutor) Run(context.Context, *executorpb.RunRequest, ...grpc.CallOption) (grpc.ServerStreamingClient[executorpb.RunEvent], error) {
	return cutStream{err: c.err}, nil
}

type cutStream struct {
	grpc.ClientStream
	err error
}

func (s cutStream) Recv() (*executorpb.RunEvent, error) { return nil, s.err }

func runWith(t *testing.T, err error) error {
	t.Helper()
	r := &Runner{Executors: func(string) (executorpb.ExecutorClient, error) { return cutExecutor{err: err}, nil }}
	_, got := r.Run(context.Background(), &invocation.Task{InvocationID: "i", Runtime: "python"}, 1, func(*envelope.Envelope, []byte) error { return nil })
	return got
}

// A run cut by the executor plugin's exit is retried (infra) and, once dead, is a crash.
func TestExecutorExitIsACrash(t *testing.T) {
	err := runWith(t, status.Error(codes.Unavailable, "plugin executor-python exited: signal: killed"))
	if !errors.Is(err, ErrInfra) || !errors.Is(err, ErrExecutorCrashed) || LostKind(err) != envelope.KindCrash {
		t.Fatalf("executor exit: got %v (kind %s)", err, LostKind(err))
	}
	err = runWith(t, status.Error(codes.Unavailable, "connection refused"))
	if !errors.Is(err, ErrInfra) || errors.Is(err, ErrExecutorCrashed) || LostKind(err) != envelope.KindInfra {
		t.Fatalf("other transport failure: got %v (kind %s)", err, LostKind(err))
	}
}
