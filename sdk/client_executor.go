package sdk

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc"

	executorpb "github.com/sous-run/sous/sdk/proto/executor"
)

// executorClient is Executor over a plugin connection.
type executorClient struct {
	*baseClient
	c executorpb.ExecutorClient
}

// NewExecutorClient returns Executor over a plugin connection. A digest that was
// never prepared fails Run with ErrNotFound.
func NewExecutorClient(cc grpc.ClientConnInterface) Executor {
	return &executorClient{baseClient: newBaseClient(cc), c: executorpb.NewExecutorClient(cc)}
}

func (x *executorClient) Prepare(ctx context.Context, spec FunctionSpec) (bool, error) {
	r, err := x.c.Prepare(ctx, &executorpb.PrepareRequest{Spec: specToWire(spec)})
	if err != nil {
		return false, FromStatus(err)
	}
	return r.GetCached(), nil
}

// Run streams the run's envelopes into emit; an error from emit ends the run (the
// stream is cancelled) and is returned as is.
func (x *executorClient) Run(ctx context.Context, req RunRequest, emit func([]byte) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := x.c.Run(ctx, runToWire(req))
	if err != nil {
		return FromStatus(err)
	}
	for {
		ev, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return FromStatus(err)
		}
		if err := emit(ev.GetEnvelope()); err != nil {
			return err
		}
	}
}
