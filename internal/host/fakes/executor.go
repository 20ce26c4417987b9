package fakes

import (
	"context"
	"fmt"
	"sync"

	"github.com/sous-run/sous/sdk"
)

// RunFunc plays one run: it calls emit with each envelope.
type RunFunc func(ctx context.Context, req sdk.RunRequest, emit func([]byte) error) error

// Executor is an sdk.Executor whose runs are played by a RunFunc. Until a digest is
// prepared, Run fails with ErrNotFound (as a real executor does) unless Unprepared
// is set.
type Executor struct {
	base
	Play       RunFunc
	Unprepared bool // Run without Prepare

	mu       sync.Mutex
	prepared map[string]sdk.FunctionSpec
	runs     []sdk.RunRequest
}

// NewExecutor returns an executor that plays runs with play.
func NewExecutor(play RunFunc) *Executor {
	return &Executor{base: base{kind: sdk.KindExecutor}, Play: play, prepared: map[string]sdk.FunctionSpec{}}
}

var _ sdk.Executor = (*Executor)(nil)

// Prepare remembers the spec.
func (x *Executor) Prepare(_ context.Context, spec sdk.FunctionSpec) (bool, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	_, cached := x.prepared[spec.Digest]
	x.prepared[spec.Digest] = spec
	return cached, nil
}

// Run plays the run.
func (x *Executor) Run(ctx context.Context, req sdk.RunRequest, emit func([]byte) error) error {
	x.mu.Lock()
	_, ok := x.prepared[req.Digest]
	x.runs = append(x.runs, req)
	x.mu.Unlock()
	if !ok && !x.Unprepared {
		return fmt.Errorf("digest %s: %w", req.Digest, sdk.ErrNotFound)
	}
	return x.Play(ctx, req, emit)
}

// Runs returns the run requests so far.
func (x *Executor) Runs() []sdk.RunRequest {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]sdk.RunRequest(nil), x.runs...)
}

// Emit returns a RunFunc that emits envs in order and ends.
func Emit(envs ...string) RunFunc {
	return func(_ context.Context, _ sdk.RunRequest, emit func([]byte) error) error {
		for _, e := range envs {
			if err := emit([]byte(e)); err != nil {
				return err
			}
		}
		return nil
	}
}
