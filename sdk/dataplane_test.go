package sdk

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
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

// TestDataPlaneReadingOutlivesACancelledReader: the runs read the data plane
// themselves; one cancelled while it is the reader returns at once and hands the
// reading to a run still waiting, which gets its result.
func TestDataPlaneReadingOutlivesACancelledReader(t *testing.T) {
	gate := make(chan struct{})
	f := &fakeExecutor{canceled: make(chan string, 1), started: make(chan struct{}, 1), gates: map[string]chan struct{}{"": gate}}
	x := configuredClient(t, serveExecutor(t, f, true).dial(t))
	ctx, cancel := context.WithCancel(context.Background())
	reader := make(chan error, 1)
	go func() {
		_, err := collect(ctx, x, RunRequest{InvocationID: "reader", Function: "block"})
		reader <- err
	}()
	<-f.started // the run alone on the session: it is reading the data plane
	waiter := make(chan []string, 1)
	go func() {
		got, err := collect(context.Background(), x, RunRequest{InvocationID: "waiter", Function: "gated"})
		if err != nil {
			t.Errorf("waiting run: %v", err)
		}
		waiter <- got
	}()
	time.Sleep(20 * time.Millisecond) // the second run is waiting for the reading
	cancel()
	select {
	case err := <-reader:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled reader: got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a run cancelled while reading the data plane did not return")
	}
	close(gate)
	select {
	case got := <-waiter:
		if fmt.Sprint(got) != `[{"type":"result","output":"gated"}]` {
			t.Fatalf("waiting run got %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nobody read the data plane after its reader was cancelled")
	}
	if id := <-f.canceled; id != "reader" {
		t.Fatalf("plugin cancelled %q", id)
	}
}

// TestDataPlaneReadingIsNeverLost: runs that end, are cancelled while reading or
// waiting, and start at random never leave the others without a reader.
func TestDataPlaneReadingIsNeverLost(t *testing.T) {
	open := make(chan struct{})
	close(open)
	f := &fakeExecutor{canceled: make(chan string, 1000), gates: map[string]chan struct{}{"": open}}
	x := configuredClient(t, serveExecutor(t, f, true).dial(t))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 150 {
				if (g+i)%3 == 0 { // a run cancelled after up to 1 ms
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%10)*100*time.Microsecond)
					_, _ = collect(ctx, x, RunRequest{Function: "block"})
					cancel()
					continue
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				got, err := collect(ctx, x, RunRequest{Function: "gated"})
				cancel()
				if err != nil || len(got) != 1 {
					t.Errorf("run %d/%d: %q, %v", g, i, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestDataPlaneReadingPassesOnFromARunThatEnds: the reading handed to a run busy
// with its own envelopes, which then ends (its emit failed), goes on to the next
// waiting run. Which waiting run is handed the reading is random: the scenario runs
// ten times.
func TestDataPlaneReadingPassesOnFromARunThatEnds(t *testing.T) {
	for range 10 {
		first, last, busyEnd := make(chan struct{}), make(chan struct{}), make(chan struct{})
		f := &fakeExecutor{gates: map[string]chan struct{}{"first": first, "last": last, "busy": busyEnd}}
		x := configuredClient(t, serveExecutor(t, f, true).dial(t))
		ended := make(chan error, 3)
		run := func(req RunRequest, emit func([]byte) error) {
			go func() { ended <- x.Run(context.Background(), req, emit) }()
		}
		none := func([]byte) error { return nil }
		// The reader: alone on the session, it reads until its result.
		run(RunRequest{Function: "gated", Input: []byte("first")}, none)
		time.Sleep(10 * time.Millisecond)
		// A run the reader wakes with its log; its emit holds it, then fails.
		busy, release := make(chan struct{}), make(chan struct{})
		run(RunRequest{Function: "logged", Input: []byte("busy")}, func([]byte) error {
			close(busy)
			<-release
			return errors.New("emit failed")
		})
		<-busy
		// A run waiting for the reading.
		got := make(chan []string, 1)
		go func() {
			envs, err := collect(context.Background(), x, RunRequest{Function: "gated", Input: []byte("last")})
			if err != nil {
				t.Errorf("last run: %v", err)
			}
			got <- envs
		}()
		time.Sleep(10 * time.Millisecond)
		close(first) // the reader ends and hands the reading on
		time.Sleep(10 * time.Millisecond)
		close(release) // the busy run ends
		close(last)
		defer close(busyEnd)
		select {
		case envs := <-got:
			if len(envs) != 1 {
				t.Fatalf("last run got %q", envs)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the reading was lost with a run that ended: the last run never got its result")
		}
	}
}

// TestDataPlaneCarriesFramesOverItsReadBuffer: an envelope larger than the 64 KiB read
// buffer arrives whole, and the frames after it too.
func TestDataPlaneCarriesFramesOverItsReadBuffer(t *testing.T) {
	f := &fakeExecutor{}
	x := configuredClient(t, serveExecutor(t, f, true).dial(t))
	for _, size := range []int{200 << 10, 10, 70 << 10} {
		in := `"` + strings.Repeat("x", size) + `"`
		f.batch.Add(1)
		got, err := collect(context.Background(), x, RunRequest{Function: "echo", Input: []byte(in)})
		if err != nil || len(got) != 2 || got[1] != `{"type":"result","output":`+in+`}` {
			t.Fatalf("%d-byte input: %d envelopes, %v", size, len(got), err)
		}
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
		_, err := l.accept(false)
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
