package worker

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
)

func TestWantedCommands(t *testing.T) {
	deployed := []invocation.FunctionRef{{Tenant: "acme", Name: "hello"}, {Tenant: "rival", Name: "hello"}, {Tenant: "acme", Name: "resize"}}
	list := func(context.Context) ([]invocation.FunctionRef, error) { return deployed, nil }
	for _, tc := range []struct {
		name      string
		functions []string
		want      []string
	}{
		{"every function and the runtime queues", nil,
			[]string{"sous.fn.acme.hello", "sous.fn.acme.resize", "sous.fn.rival.hello", "sous.run.bun"}},
		{"a name in every tenant", []string{"hello"}, []string{"sous.fn.acme.hello", "sous.fn.rival.hello"}},
		{"one tenant's function, deployed or not", []string{"acme/resize", "rival/later"}, []string{"sous.fn.acme.resize", "sous.fn.rival.later"}},
		{"a name not deployed", []string{"nothing"}, nil},
	} {
		w := New(Options{Runtimes: []string{"bun"}, Functions: tc.functions, Deployed: list}, nil, nil, nil, nil)
		got, err := w.wanted(context.Background())
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: commands %v (%v), want %v", tc.name, got, err, tc.want)
		}
	}
}

func TestRefreshReportsChangesAndKeepsCommandsOnError(t *testing.T) {
	deployed := []invocation.FunctionRef{{Tenant: "acme", Name: "hello"}}
	var failing error
	w := New(Options{Deployed: func(context.Context) ([]invocation.FunctionRef, error) { return deployed, failing }}, nil, nil, nil, nil)
	ctx := context.Background()
	if changed, err := w.refresh(ctx); !changed || err != nil {
		t.Fatalf("first refresh: changed %v, %v", changed, err)
	}
	if changed, _ := w.refresh(ctx); changed {
		t.Fatal("refresh with the same functions reported a change")
	}
	deployed = append(deployed, invocation.FunctionRef{Tenant: "acme", Name: "late"})
	if changed, _ := w.refresh(ctx); !changed || !slices.Contains(w.Commands(), "sous.fn.acme.late") {
		t.Fatalf("a function deployed later: changed false or commands %v", w.Commands())
	}
	failing = errors.New("control role down")
	if _, err := w.refresh(ctx); err == nil || len(w.Commands()) != 2 {
		t.Fatalf("a failed listing must keep the commands: %v, %v", err, w.Commands())
	}
}

// With a Refresh far longer than the test, only the Changed signal can make the watch
// see a function deployed after the stream opened.
func TestWatchCommandsListsAgainWhenSignalled(t *testing.T) {
	var mu sync.Mutex
	deployed := []invocation.FunctionRef{{Tenant: "acme", Name: "hello"}}
	signal := make(chan struct{})
	w := New(Options{Refresh: time.Hour,
		Deployed: func(context.Context) ([]invocation.FunctionRef, error) {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(deployed), nil
		},
		Changed: func() <-chan struct{} { return make(chan struct{}) }, // later signals never fire
	}, nil, nil, nil, nil)
	ctx := context.Background()
	if _, err := w.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go w.watchCommands(sctx, cancel, signal)
	mu.Lock()
	deployed = append(deployed, invocation.FunctionRef{Tenant: "acme", Name: "late"})
	mu.Unlock()
	close(signal)
	select {
	case <-sctx.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the stream was not ended after the signal")
	}
	if cause := context.Cause(sctx); !errors.Is(cause, errCommandsChanged) || !slices.Contains(w.Commands(), "sous.fn.acme.late") {
		t.Fatalf("cause %v, commands %v", cause, w.Commands())
	}
}
