package worker

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/internal/host/fakes"
	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

func runWith(t *testing.T, err error) error {
	t.Helper()
	ex := fakes.NewExecutor(func(context.Context, sdk.RunRequest, func([]byte) error) error { return err })
	ex.Unprepared = true
	r := &Runner{Executors: func(string) (sdk.Executor, error) { return ex, nil }}
	_, got := r.Run(context.Background(), &invocation.Task{InvocationID: "i", Runtime: "python"}, 1, func(*envelope.Envelope, []byte) error { return nil })
	return got
}

// A run cut by the executor plugin's exit is retried (infra) and, once dead, is a crash.
func TestExecutorExitIsACrash(t *testing.T) {
	err := runWith(t, sdk.FromStatus(status.Error(codes.Unavailable, "plugin executor-python exited: signal: killed")))
	if !errors.Is(err, ErrInfra) || !errors.Is(err, ErrExecutorCrashed) || LostKind(err) != envelope.KindCrash {
		t.Fatalf("executor exit: got %v (kind %s)", err, LostKind(err))
	}
	err = runWith(t, sdk.FromStatus(status.Error(codes.Unavailable, "connection refused")))
	if !errors.Is(err, ErrInfra) || errors.Is(err, ErrExecutorCrashed) || LostKind(err) != envelope.KindInfra {
		t.Fatalf("other transport failure: got %v (kind %s)", err, LostKind(err))
	}
}
