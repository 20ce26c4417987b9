package worker

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/internal/host/fakes"
	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// rig is a worker over the fakes, serving function t/fn.
type rig struct {
	w   *Worker
	msg *fakes.Messaging
	ev  *fakes.Events
	ex  *fakes.Executor
}

var fnCommand = invocation.FunctionCommand("t", "fn")

// newRig returns a worker (not running) whose runs are played by play.
func newRig(t *testing.T, opt Options, play fakes.RunFunc) *rig {
	t.Helper()
	r := &rig{msg: fakes.NewMessaging(), ev: fakes.NewEvents(), ex: fakes.NewExecutor(play)}
	r.ex.Unprepared = true
	opt.Functions = []string{"t/fn"}
	runner := &Runner{Executors: func(string) (sdk.Executor, error) { return r.ex, nil }}
	r.w = New(opt, r.msg, r.ev, runner, nil)
	return r
}

// start runs the worker until the test ends (and waits for it then).
func (r *rig) start(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.w.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// enqueue queues invocation id of t/fn.
func (r *rig) enqueue(t *testing.T, id string, maxAttempts int) {
	t.Helper()
	payload, _ := json.Marshal(invocation.Task{InvocationID: id, Tenant: "t", Function: "fn", Digest: "d", Runtime: "bun", Env: "prod"})
	if _, err := r.msg.Enqueue(context.Background(), sdk.Task{ID: id, Tenant: "t", Command: fnCommand, Payload: payload, MaxAttempts: maxAttempts}); err != nil {
		t.Fatal(err)
	}
}

// types returns the envelope types published for id.
func (r *rig) types(id string) []string {
	var out []string
	for _, raw := range r.ev.Envelopes("t", id) {
		e, err := envelope.Unmarshal(raw)
		if err != nil {
			out = append(out, "bad")
			continue
		}
		out = append(out, e.Type)
	}
	return out
}

// result is the record id was acked with.
func (r *rig) result(t *testing.T, id string) invocation.Outcome {
	t.Helper()
	res, err := r.msg.Result(context.Background(), "t", id)
	if err != nil {
		t.Fatal(err)
	}
	var o invocation.Outcome
	if res.Status == sdk.TaskCompleted {
		if err := json.Unmarshal(res.Result, &o); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

func (r *rig) inFlight() int {
	r.w.slotMu.Lock()
	defer r.w.slotMu.Unlock()
	return r.w.inFlight
}

// eventually fails the test if cond does not hold within 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	fakes.Eventually(t, what, cond)
}

const resultEnv = `{"type":"result","output":{"ok":true}}`

// gate is a RunFunc whose runs wait until released, counting how many run at once.
type gate struct {
	mu            sync.Mutex
	running, peak int
	release       chan struct{}
}

func newGate() *gate { return &gate{release: make(chan struct{})} }

func (g *gate) play(ctx context.Context, _ sdk.RunRequest, emit func([]byte) error) error {
	g.mu.Lock()
	g.running++
	g.peak = max(g.peak, g.running)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.running--
		g.mu.Unlock()
	}()
	select {
	case <-g.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return emit([]byte(resultEnv))
}

func (g *gate) counts() (running, peak int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.running, g.peak
}

// statusErr is a gRPC Unavailable error with msg, as the plugin proxy reports.
func statusErr(msg string) error { return status.Error(codes.Unavailable, msg) }
