package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/sdk/envelope"
)

// wantsSSE reports whether the client asked for an event stream.
func wantsSSE(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// wantsAsync reports whether the client asked for 202 + id (Prefer: respond-async or ?async=1).
func wantsAsync(r *http.Request) bool {
	if v := r.URL.Query().Get("async"); v == "1" || v == "true" {
		return true
	}
	for _, p := range strings.Split(r.Header.Get("Prefer"), ",") {
		if strings.TrimSpace(p) == "respond-async" {
			return true
		}
	}
	return false
}

// sse writes events as Server-Sent Events: id = event id, event = type, data = envelope.
//
// The headers (with Sous-Invocation-Id) wait for the run's done, or sseHeaderWait,
// whichever comes first: a short run's headers, events and the stream's end leave in
// one write, and its record can go to disk with the final write's sync (SyncLater).
// Before the headers leave, settle makes the record durable if the final write has not:
// an id a caller is given is on disk.
type sse struct {
	w      http.ResponseWriter
	f      http.Flusher
	settle func()

	mu        sync.Mutex
	committed bool   // the headers were written
	closed    bool   // the handler is returning: nothing more may touch w
	done      bool   // done is among the events held
	held      []byte // events written before the headers
	timer     *time.Timer
}

// sseHeaderWait is how long an SSE stream's headers wait for the run's done.
const sseHeaderWait = 25 * time.Millisecond

func newSSE(w http.ResponseWriter, invocationID string, settle func()) *sse {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	h.Set("Sous-Invocation-Id", invocationID)
	f, _ := w.(http.Flusher)
	s := &sse{w: w, f: f, settle: settle}
	s.timer = time.AfterFunc(sseHeaderWait, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.closed {
			s.commit()
			s.flushNow()
		}
	})
	return s
}

// commit writes the headers, the record durable first, then the events held; the
// caller holds mu.
func (s *sse) commit() {
	if s.committed {
		return
	}
	s.timer.Stop()
	s.settle()
	s.committed = true
	s.w.WriteHeader(http.StatusOK)
	if len(s.held) > 0 {
		_, _ = s.w.Write(s.held) // an error shows at the next write or flush
		s.held = nil
	}
}

func (s *sse) flushNow() {
	if s.f != nil {
		s.f.Flush()
	}
}

// flush sends what was written; before the headers it waits for done (the timer sends
// them otherwise).
func (s *sse) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || !s.committed && !s.done {
		return
	}
	s.commit()
	s.flushNow()
}

// end is the handler's last word: the headers go out if they have not, and net/http
// sends what is written with the stream's end in one write when the handler returns.
func (s *sse) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commit()
	s.closed = true
}

// sseWriteTimeout bounds each write to an SSE client: one that stops reading (but
// keeps the connection) is cut off instead of stalling what feeds it.
const sseWriteTimeout = 30 * time.Second

// send writes one event; it reaches the client at the next flush (see relayFor).
func (s *sse) send(id string, e *envelope.Envelope, raw []byte) error {
	var b strings.Builder
	if id != "" {
		fmt.Fprintf(&b, "id: %s\n", id)
	}
	fmt.Fprintf(&b, "event: %s\ndata: %s\n\n", e.Type, raw)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.committed {
		s.held = append(s.held, b.String()...)
		s.done = s.done || e.Type == envelope.TypeDone
		return nil
	}
	_ = http.NewResponseController(s.w).SetWriteDeadline(time.Now().Add(sseWriteTimeout))
	if _, err := s.w.Write([]byte(b.String())); err != nil {
		return fmt.Errorf("write event: %w", err)
	}
	return nil
}

// comment writes an SSE comment (a line clients show to no handler), e.g. why the
// stream ends without done.
func (s *sse) comment(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commit()
	_ = http.NewResponseController(s.w).SetWriteDeadline(time.Now().Add(sseWriteTimeout))
	_, _ = fmt.Fprintf(s.w, ": %s\n\n", strings.ReplaceAll(text, "\n", " "))
	s.flushNow()
}

// accumulator builds the buffered JSON body of a sync invocation from the event
// sequence. A status event with a higher attempt resets partial output (the run was
// retried).
type accumulator struct {
	res     wire.InvokeResult
	withLog bool
}

func newAccumulator(id string, env string) *accumulator {
	return &accumulator{res: wire.InvokeResult{InvocationID: id, Status: invocation.StatusRunning, Chunks: []json.RawMessage{}},
		withLog: invocation.ShowsLogs(env)}
}

func (a *accumulator) add(e *envelope.Envelope) {
	switch {
	case e.Type == envelope.TypeStatus:
		if e.Attempt > a.res.Attempts {
			a.res.Attempts = e.Attempt
			a.res.Chunks = a.res.Chunks[:0]
			a.res.Logs = nil
		}
	case e.Type == envelope.TypeLog:
		if a.withLog {
			a.res.Logs = append(a.res.Logs, wire.LogLine{Stream: e.Stream, Text: e.Text, TS: e.TS})
		}
	case e.Type == envelope.TypeChunk:
		a.res.Chunks = append(a.res.Chunks, e.Data)
	case e.Terminal():
		o := invocation.FromTerminal(a.res.InvocationID, e)
		a.res.Status, a.res.Output, a.res.Error, a.res.DurationMS = o.Status, o.Output, o.Error, o.DurationMS
	}
}

// httpStatus is the HTTP status of a finished sync invocation: 200 for a result, and
// for the function's own errors too (the body says failed); 504 for a timeout; 502 for
// infrastructure failures.
func (a *accumulator) httpStatus() int {
	if a.res.Error == nil {
		return http.StatusOK
	}
	switch a.res.Error.Kind {
	case envelope.KindTimeout:
		return http.StatusGatewayTimeout
	case envelope.KindInfra:
		return http.StatusBadGateway
	}
	return http.StatusOK
}
