package sdk

import (
	"context"
	"errors"
	"io"
	"sync"

	"google.golang.org/grpc"

	executorpb "github.com/sous-run/sous/sdk/proto/executor"
)

// executorClient is Executor over a plugin connection. Runs share one Session
// stream (opened on first use, re-opened after it breaks); against a plugin without
// Session each run is its own Run stream.
type executorClient struct {
	*baseClient
	c executorpb.ExecutorClient

	mu        sync.Mutex
	sess      *clientSession // nil until opened
	noSession bool           // the plugin answered Unimplemented: use Run
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

// Run streams the run's envelopes into emit; an error from emit ends the run (it is
// cancelled) and is returned as is. A run still in flight when its session breaks
// fails with the stream's error, as a broken Run stream does.
func (x *executorClient) Run(ctx context.Context, req RunRequest, emit func([]byte) error) error {
	// A session that broke before the run was started on it is replaced once.
	for range 2 {
		s, err := x.session(ctx)
		if err != nil {
			return err
		}
		if s == nil {
			return x.runStream(ctx, req, emit)
		}
		if err := s.run(ctx, req, emit); !errors.Is(err, errNotStarted) {
			return err
		}
	}
	return x.runStream(ctx, req, emit)
}

// session returns the open session, opening one when there is none or it broke;
// nil (and no error) when the plugin has no Session.
func (x *executorClient) session(ctx context.Context) (*clientSession, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.noSession {
		return nil, nil
	}
	if x.sess != nil && x.sess.alive() {
		return x.sess, nil
	}
	s, err := openSession(ctx, x.c)
	if errors.Is(err, errNoSession) {
		x.noSession = true
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	x.sess = s
	return s, nil
}

// runStream is Run over its own server-streaming call.
func (x *executorClient) runStream(ctx context.Context, req RunRequest, emit func([]byte) error) error {
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
