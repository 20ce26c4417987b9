package sdk

import (
	"bytes"
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"

	executorpb "github.com/sous-run/sous/sdk/proto/executor"
	"github.com/sous-run/sous/sdk/telemetry"
)

// Session serves the runs a host multiplexes on one stream (see executor.proto): each
// start runs the driver's Run in its own goroutine under a context cancelled by the
// run's cancel message or the stream's end; sends are serialized. It also offers the
// data plane (dataplane.go) in its headers and serves the runs of the connection the
// host makes there the same way. It returns once the host closes its side (or the
// stream breaks) and every run has ended.
func (s *executorServer) Session(st executorpb.Executor_SessionServer) error {
	return s.session(st, listenDataPlane())
}

// session is Session with the data plane offered on dp (nil: none).
func (s *executorServer) session(st executorpb.Executor_SessionServer, dp *dataPlaneListener) error {
	// Headers at once: the host learns at open time that Session is served.
	return serveOffering(st, sessionHeader, dp, func(ctx context.Context, fc *frameConn) error {
		f := pluginFrames{fc}
		(&serverSession{x: s, out: f, runs: map[uint64]context.CancelFunc{}}).serve(ctx, f.Recv)
		return nil
	}, func(ctx context.Context) error {
		(&serverSession{x: s, out: st, runs: map[uint64]context.CancelFunc{}}).serve(ctx, st.Recv)
		return nil
	})
}

// serverSession is the runs of one Session stream or data-plane connection.
type serverSession struct {
	x   *executorServer
	out interface {
		Send(*executorpb.SessionEvent) error
	}
	// open is the stream's context: once it ends nothing more is sent, on the data
	// plane as on a stream whose context ended.
	open context.Context
	send sync.Mutex // one Send at a time
	mu   sync.Mutex
	runs map[uint64]context.CancelFunc
	wg   sync.WaitGroup
}

// serve starts and cancels runs as recv returns requests; once recv fails (the host
// closed its side, the stream or connection broke) it cancels the runs left and
// waits for them.
func (ss *serverSession) serve(ctx context.Context, recv func() (*executorpb.SessionRequest, error)) {
	ss.open = ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ended := make(chan struct{})
	ss.read(ctx, recv, ended)
	<-ended
	cancel()
	ss.wg.Wait()
}

// read reads requests until one starts a run, then hands reading on to a new
// goroutine and runs the start itself: the run begins without waiting for a
// goroutine to be scheduled. It closes ended when recv fails.
func (ss *serverSession) read(ctx context.Context, recv func() (*executorpb.SessionRequest, error), ended chan struct{}) {
	for {
		req, err := recv()
		if err != nil {
			close(ended)
			return
		}
		if start := req.GetStart(); start != nil {
			run := ss.start(ctx, req.GetRun(), start)
			go ss.read(ctx, recv, ended)
			run()
			return
		}
		if req.GetCancel() {
			ss.cancel(req.GetRun())
		}
	}
}

// start registers run n and returns it, to be run on the caller's goroutine.
func (ss *serverSession) start(parent context.Context, n uint64, start *executorpb.SessionStart) func() {
	ctx, cancel := runContext(parent, start)
	ss.mu.Lock()
	ss.runs[n] = cancel
	ss.mu.Unlock()
	ss.wg.Add(1)
	return func() {
		defer ss.wg.Done()
		defer ss.cancel(n)
		ctx, span := runSpan(ctx, start)
		if span != nil {
			defer span.End()
		}
		err := ss.x.ready()
		r := &sessionRun{ss: ss, n: n}
		if err == nil {
			err = ss.x.x.Run(ctx, runFromWire(start.GetRequest()), r.emit)
		}
		r.finish(ToStatus(err))
	}
}

// runContext is a run's context: the host's time left and call metadata, as a Run
// call would have carried them.
func runContext(parent context.Context, start *executorpb.SessionStart) (context.Context, context.CancelFunc) {
	if md := start.GetMetadata(); len(md) > 0 {
		parent = metadata.NewIncomingContext(parent, metadata.New(md))
	}
	if us := start.GetTimeoutUs(); us > 0 {
		return context.WithTimeout(parent, time.Duration(us)*time.Microsecond)
	}
	return context.WithCancel(parent)
}

// runSpan starts the run's server span, continuing the host's trace, as the tracing
// interceptor does for a Run call; nil when tracing is off or the host sent none.
func runSpan(ctx context.Context, start *executorpb.SessionStart) (context.Context, trace.Span) {
	md, id := start.GetMetadata(), start.GetRequest().GetInvocationId()
	if !telemetry.Enabled() || len(md) == 0 || id == "" {
		return ctx, nil
	}
	ctx = telemetry.Extract(ctx, propagation.MapCarrier(md))
	return telemetry.Start(ctx, "executor.Run", id, trace.SpanKindServer)
}

// cancel cancels run n and forgets it (a no-op once it has ended).
func (ss *serverSession) cancel(n uint64) {
	ss.mu.Lock()
	cancel := ss.runs[n]
	delete(ss.runs, n)
	ss.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

func (ss *serverSession) sendEvent(ev *executorpb.SessionEvent) error {
	ss.send.Lock()
	defer ss.send.Unlock()
	if err := ss.open.Err(); err != nil {
		return err
	}
	return ss.out.Send(ev)
}

// sessionRun sends one run's envelopes. An envelope that looks terminal is held back
// so it can travel with the run's end in one event; any other is sent at once.
type sessionRun struct {
	ss      *serverSession
	n       uint64
	pending []byte
}

func (r *sessionRun) emit(envelope []byte) error {
	if err := r.flush(); err != nil {
		return err
	}
	if looksTerminal(envelope) {
		r.pending = envelope
		return nil
	}
	return r.ss.sendEvent(&executorpb.SessionEvent{Run: r.n, Envelope: envelope})
}

func (r *sessionRun) flush() error {
	if r.pending == nil {
		return nil
	}
	p := r.pending
	r.pending = nil
	return r.ss.sendEvent(&executorpb.SessionEvent{Run: r.n, Envelope: p})
}

// finish sends the run's terminal event: its held-back envelope, if any, and its
// error's status (a status error, nil when the run succeeded).
func (r *sessionRun) finish(err error) {
	_ = r.ss.sendEvent(runEndToWire(r.n, r.pending, err))
}

// terminalPrefixes are how a result or error envelope starts, as the harness and
// the runtimes write them (the type first, or after the host's time stamp).
var terminalPrefixes = [][]byte{[]byte(`"type":"result"`), []byte(`"type":"error"`)}

// looksTerminal reports whether an envelope names a terminal type within its first
// bytes; a miss only costs the run one more event.
func looksTerminal(envelope []byte) bool {
	head := envelope[:min(len(envelope), 48)]
	for _, p := range terminalPrefixes {
		if bytes.Contains(head, p) {
			return true
		}
	}
	return false
}
