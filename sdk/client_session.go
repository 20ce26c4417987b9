package sdk

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
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

// clientSession is the host's side of one Session: runs are numbered on it, each
// event is routed to its run, and its break fails every run still on it. Runs go on
// the plugin's data plane (dataplane.go) when it offers one, else on the Session
// stream itself.
//
// On the data plane the runs read it themselves, one at a time (lead): a waiting run
// reads until an event of its own arrives, routing the others', then hands reading
// to another waiting run. A run alone on the session, the common case, so gets its
// events without a hand-off between goroutines; each one, when the other P is idle,
// wakes a thread, and at one client that cost ~25 µs a run. The Session stream is
// read by a goroutine of its own.
type clientSession struct {
	st     sessionStream
	cancel func()     // ends the stream and the data-plane connection
	send   sync.Mutex // one Send at a time

	mu     sync.Mutex
	next   uint64
	runs   map[uint64]*clientRun
	leader *clientRun // the run reading the data plane; nil when none is
	cut    bool       // the plane has a read deadline set, to interrupt its leader
	err    error      // why the session broke; nil while it is open
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
	st, err := c.Session(askPipes(sctx))
	if err != nil {
		cancel()
		return nil, FromStatus(err)
	}
	fc, err := awaitOffer(ctx, st, sessionHeader, func() error { _, err := st.Recv(); return sessionError(err) })
	if errors.Is(err, errUnserved) {
		err = errNoSession
	}
	if err != nil {
		cancel()
		return nil, err
	}
	s := &clientSession{st: st, cancel: cancel, runs: map[uint64]*clientRun{}}
	if fc == nil {
		go s.read()
		return s, nil
	}
	s.st = hostFrames{fc}
	s.cancel = func() { cancel(); fc.close() }
	// The stream carries nothing now; its end (the plugin gone) ends the session,
	// whether or not a run is reading the data plane.
	go func() {
		_, err := st.Recv()
		s.fail(sessionError(err))
	}()
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
	// A failed send means the stream is ending; its reader then fails the run.
	_ = s.sendReq(&executorpb.SessionRequest{Run: n, Msg: &executorpb.SessionRequest_Start{Start: startToWire(ctx, req)}})
	if _, ok := s.plane(); ok {
		defer s.handOff(r)
		defer context.AfterFunc(ctx, func() { s.interrupt(r) })()
	}
	for {
		if !s.lead(ctx, r) {
			select {
			case <-r.wake:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
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

// plane is the session's data plane; false when its runs are on the Session stream.
func (s *clientSession) plane() (hostFrames, bool) {
	f, ok := s.st.(hostFrames)
	return f, ok
}

// readDeadline sets the data plane's read deadline (the caller holds mu).
func (s *clientSession) readDeadline(t time.Time) {
	if f, ok := s.plane(); ok {
		_ = f.setReadDeadline(t)
	}
}

// lead reads the data plane for the session until r has an event, ctx ends or the
// plane breaks, unless another run is reading it (or runs are on the stream): then it
// marks r as waiting for the reading to be handed over and reports false.
func (s *clientSession) lead(ctx context.Context, r *clientRun) bool {
	plane, ok := s.plane()
	if !ok {
		return false
	}
	s.mu.Lock()
	if s.err != nil || s.leader != nil {
		r.waiting = s.err == nil
		s.mu.Unlock()
		return false
	}
	s.leader, r.waiting = r, false
	s.mu.Unlock()
	defer s.handOff(r)
	for !r.ready() && ctx.Err() == nil {
		ev, err := plane.next()
		switch {
		case err == nil:
			s.deliver(ev)
		case errors.Is(err, os.ErrDeadlineExceeded): // interrupted: ctx is checked again
			s.mu.Lock()
			s.uncut()
			s.mu.Unlock()
		default:
			s.fail(sessionError(brokenPlane(err)))
			return true
		}
	}
	return true
}

// interrupt cuts the data-plane read of r, if r is reading, for it to see its
// context ended.
func (s *clientSession) interrupt(r *clientRun) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leader == r {
		s.cut = true
		s.readDeadline(time.Unix(1, 0))
	}
}

// uncut clears an interrupt's deadline; the caller holds mu.
func (s *clientSession) uncut() {
	if s.cut {
		s.cut = false
		s.readDeadline(time.Time{})
	}
}

// handOff ends r's reading, if r is reading, and wakes a waiting run to take the
// reading over if nobody has it. A run calls it when it ends as well: it may have
// been woken to read while it was taking its last envelopes.
func (s *clientSession) handOff(r *clientRun) {
	s.mu.Lock()
	if s.leader == r {
		s.leader = nil
		s.uncut() // an interrupt meant for r
	}
	var next *clientRun
	if s.leader == nil {
		for _, o := range s.runs {
			if o.waiting {
				next, o.waiting = o, false
				break
			}
		}
	}
	s.mu.Unlock()
	if next != nil {
		next.poke()
	}
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

// fail breaks the session with err (the first break is the one kept) and fails the
// runs on it.
func (s *clientSession) fail(err error) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
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
	wake    chan struct{} // signalled after each push, and to hand it the reading
	waiting bool          // for the data plane's reading (guarded by the session's mu)
	mu      sync.Mutex
	queue   [][]byte
	done    bool
	err     error
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
	r.poke()
}

// poke wakes the run's goroutine (a no-op when a wake is already pending).
func (r *clientRun) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// ready reports whether the run has envelopes or its end to take.
func (r *clientRun) ready() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queue) > 0 || r.done
}

func (r *clientRun) take() ([][]byte, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queue
	r.queue = nil
	return q, r.done, r.err
}
