package api

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/sdk/envelope"
)

// countingListener counts the writes made on the connections it accepts.
type countingListener struct {
	net.Listener
	mu     sync.Mutex
	writes int
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	return &countingConn{Conn: c, l: l}, err
}

type countingConn struct {
	net.Conn
	l *countingListener
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.l.mu.Lock()
	c.l.writes++
	c.l.mu.Unlock()
	return c.Conn.Write(b)
}

// TestSSEEndsInTheWriteOfItsLastEvents: a short run's SSE headers wait for its done,
// and go out with its events and the end of the stream in one write, so the client is
// woken once, not for the headers, the events and the end in turn.
func TestSSEEndsInTheWriteOfItsLastEvents(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, relay, finish := (&Server{}).relayFor(w, r, &store.Invocation{ID: "inv-1"})
		for i, e := range []*envelope.Envelope{{Type: envelope.TypeStatus, Status: "running"},
			{Type: envelope.TypeResult, Output: []byte(`1`)}, {Type: envelope.TypeDone}} {
			raw, _ := envelope.Marshal(e)
			if err := relay(string(rune('1'+i)), e, raw); err != nil {
				t.Error(err)
			}
		}
		finish(nil)
	}))
	counted := &countingListener{Listener: srv.Listener}
	srv.Listener = counted
	srv.Start()
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var events []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			events = append(events, ev)
		}
	}
	if strings.Join(events, ",") != "status,result,done" || resp.Header.Get("Sous-Invocation-Id") != "inv-1" {
		t.Fatalf("events %v, id %q", events, resp.Header.Get("Sous-Invocation-Id"))
	}
	counted.mu.Lock()
	defer counted.mu.Unlock()
	if counted.writes != 1 {
		t.Fatalf("%d writes on the connection; want 1 (the headers and the events with the stream's end)", counted.writes)
	}
}

// TestSSEHeadersLeaveAfterTheRecordIsDurable: a run still going after sseHeaderWait
// gets its headers then, while it runs, and only once settle (the record's sync) has
// returned; a short run's headers wait for done.
func TestSSEHeadersLeaveAfterTheRecordIsDurable(t *testing.T) {
	var settled atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := newSSE(w, "inv-1", func() { time.Sleep(5 * time.Millisecond); settled.Add(1) })
		raw, _ := envelope.Marshal(&envelope.Envelope{Type: envelope.TypeStatus, Status: "running"})
		_ = out.send("1", &envelope.Envelope{Type: envelope.TypeStatus}, raw)
		out.flush() // no done yet: the headers wait
		<-release
		raw, _ = envelope.Marshal(&envelope.Envelope{Type: envelope.TypeDone})
		_ = out.send("2", &envelope.Envelope{Type: envelope.TypeDone}, raw)
		out.end()
	}))
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL, nil)
	start := time.Now()
	resp, err := srv.Client().Do(req) // returns with the headers, while the handler waits
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	waited := time.Since(start)
	if n := settled.Load(); n != 1 || resp.Header.Get("Sous-Invocation-Id") != "inv-1" {
		t.Fatalf("headers came with %d settles and id %q; want the id after one settle", n, resp.Header.Get("Sous-Invocation-Id"))
	}
	if waited < sseHeaderWait {
		t.Fatalf("headers came after %v; want them held for %v without done", waited, sseHeaderWait)
	}
	close(release)
	sc := bufio.NewScanner(resp.Body)
	var events []string
	for sc.Scan() {
		if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			events = append(events, ev)
		}
	}
	if strings.Join(events, ",") != "status,done" || settled.Load() != 1 {
		t.Fatalf("events %v after %d settles; want status,done and one settle", events, settled.Load())
	}
}
