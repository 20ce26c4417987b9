package api

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

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

// TestSSEEndsInTheWriteOfItsLastEvents: an SSE relay sends its headers at once, and
// the events relayed last go out with the end of the stream in one write, so the
// client is woken once for them, not once for the events and again for the end.
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
	if counted.writes != 2 {
		t.Fatalf("%d writes on the connection; want 2 (the headers, then the events with the stream's end)", counted.writes)
	}
}
