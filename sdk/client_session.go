package sdk

import (
	"context"
	"errors"
	"io"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	executorpb "github.com/sous-run/sous/sdk/proto/executor"
)

// sessionHeader is the response header a plugin serving Session sends at once.
const sessionHeader = "sous-session"

var (
	// errNoSession: the plugin answered Session with Unimplemented.
	errNoSession = errors.New("plugin has no Session")
	// errNotStarted: the session broke before the run was started on it.
	errNotStarted = errors.New("session broke before the run started")
)

// clientSession is the host's side of one Session: runs are numbered on it, a
// reader goroutine routes each event to its run, and its break fails every run still
// on it. Runs go on the plugin's data plane (dataplane.go) when it offers one, else
// on the Session stream itself.
type clientSession struct {
	st     sessionStream
	cancel func()     // ends the stream and the data-plane connection
	send   sync.Mutex // one Send at a time

	mu   sync.Mutex
	next uint64
	runs map[uint64]*clientRun
	err  error // why the session broke; nil while it is open
}

// sessionStream is where a session's runs travel: the Session stream or the data plane.
type sessionStream interface {
	Send(*executorpb.SessionRequest) error
	Recv() (*executorpb.SessionEvent, error)
}

// openSession opens a Session stream and waits for the plugin's headers, so that a
// plugin without Session is told apart (errNoSession) before any run is sent, then
// connects to its data plane if it offers one.
func openSession(ctx context.Context, c executorpb.ExecutorClient) (*clientSession, error) {
	sctx, cancel := context.WithCancel(context.Background())
	st, err := c.Session(sctx)
	if err != nil {
		cancel()
		return nil, FromStatus(err)
	}
	headers := make(chan metadata.MD, 1)
	go func() {
		md, _ := st.Header()
		headers <- md
	}()
	var md metadata.MD
	select {
	case md = <-headers:
	case <-ctx.Done():
		cancel()
		return nil, contextError(ctx)
	}
	if len(md.Get(sessionHeader)) == 0 {
		// No headers: the stream ended; its status says why.
		_, err := st.Recv()
		cancel()
		if status.Code(err) == codes.Unimplemented {
			return nil, errNoSession
		}
		return nil, sessionError(err)
	}
	s := &clientSession{st: st, cancel: cancel, runs: map[uint64]*clientRun{}}
	if fc := dialDataPlane(first(md.Get(dataPlaneHeader)), first(md.Get(dataPlaneTokenHeader))); fc != nil {
		s.st = hostFrames{fc}
		s.cancel = func() { cancel(); fc.close() }
		// The stream carries nothing now; its end (the plugin gone) ends the session.
		go func() {
			_, _ = st.Recv()
			fc.close()
		}()
	}
	go s.read()
	return s, nil
}

// first is a header's first value ("" when absent).
func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// alive reports whether the stream is still open.
func (s *clientSession) alive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err == nil
}

// run starts req on the session and feeds its envelopes to emit until its terminal
// event; errNotStarted when the session had already broken.
func (s *clientSession) run(ctx context.Context, req RunRequest, emit func([]byte) error) error {
	if ctx.Err() != nil {
		return contextError(ctx)
	}
	n, r, ok := s.add()
	if !ok {
		return errNotStarted
	}
	// A failed send means the stream is ending; the reader then fails the run.
	_ = s.sendReq(&executorpb.SessionRequest{Run: n, Msg: &executorpb.SessionRequest_Start{Start: startToWire(ctx, req)}})
	for {
		select {
		case <-r.wake:
		case <-ctx.Done():
			s.abandon(n)
			return contextError(ctx)
		}
		q, done, err := r.take()
		for _, envelope := range q {
			if e := emit(envelope); e != nil {
				if !done {
					s.abandon(n)
				}
				return e
			}
		}
		if done {
			return err
		}
	}
}

// add numbers a new run; false when the stream has broken.
func (s *clientSession) add() (uint64, *clientRun, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, nil, false
	}
	s.next++
	r := &clientRun{wake: make(chan struct{}, 1)}
	s.runs[s.next] = r
	return s.next, r, true
}

// abandon forgets run n and tells the plugin to cancel it.
func (s *clientSession) abandon(n uint64) {
	s.mu.Lock()
	_, open := s.runs[n]
	delete(s.runs, n)
	s.mu.Unlock()
	if open {
		_ = s.sendReq(&executorpb.SessionRequest{Run: n, Msg: &executorpb.SessionRequest_Cancel{Cancel: true}})
	}
}

func (s *clientSession) sendReq(req *executorpb.SessionRequest) error {
	s.send.Lock()
	defer s.send.Unlock()
	return s.st.Send(req)
}

// read routes events to their runs until the stream breaks, then fails the runs
// left on it.
func (s *clientSession) read() {
	for {
		ev, err := s.st.Recv()
		if err != nil {
			s.fail(sessionError(err))
			return
		}
		s.deliver(ev)
	}
}

func (s *clientSession) deliver(ev *executorpb.SessionEvent) {
	s.mu.Lock()
	r := s.runs[ev.GetRun()]
	if ev.GetDone() {
		delete(s.runs, ev.GetRun())
	}
	s.mu.Unlock()
	if r == nil {
		return // abandoned
	}
	r.push(ev.GetEnvelope(), ev.GetDone(), runErrorFromWire(ev))
}

func (s *clientSession) fail(err error) {
	s.mu.Lock()
	s.err = err
	runs := s.runs
	s.runs = nil
	s.mu.Unlock()
	for _, r := range runs {
		r.push(nil, true, err)
	}
	s.cancel()
}

// sessionError is the error of a stream that ended: its status, as a run's error.
func sessionError(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		err = status.Error(codes.Unavailable, "executor session ended")
	}
	return FromStatus(err)
}

// contextError is the error a Run stream returns when its context ends.
func contextError(ctx context.Context) error {
	return FromStatus(status.FromContextError(ctx.Err()).Err())
}

// clientRun is one run's envelopes as they arrive, until its terminal event.
type clientRun struct {
	wake  chan struct{} // signalled after each push
	mu    sync.Mutex
	queue [][]byte
	done  bool
	err   error
}

func (r *clientRun) push(envelope []byte, done bool, err error) {
	r.mu.Lock()
	if len(envelope) > 0 {
		r.queue = append(r.queue, envelope)
	}
	if done {
		r.done, r.err = true, err
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *clientRun) take() ([][]byte, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queue
	r.queue = nil
	return q, r.done, r.err
}
