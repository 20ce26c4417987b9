package mcp

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

func TestSourceLine(t *testing.T) {
	for stack, want := range map[string]string{
		"Error: boom\n    at default (index.ts:5:9)\n    at run (/opt/sous/bunrt/runner.ts:120:5)":                                                                            "index.ts:5",
		"Error: boom\n    at helper (src/lib/util.ts:12:3)\n    at default (src/main.ts:4:10)":                                                                                "util.ts:12",
		"Traceback (most recent call last):\n  File \"main.py\", line 7, in handler\n    f()\n  File \"lib/deep.py\", line 3, in f\n    raise ValueError('x')\nValueError: x": "deep.py:3",
		"no frames at all": "",
	} {
		if got := SourceLine(stack); got != want {
			t.Errorf("SourceLine(%q) = %q, want %q", stack, got, want)
		}
	}
}

// The in-process transport hands the response over once the header is written, so
// a streaming handler's events are read while it still runs; closing the body
// cancels the handler's request like a client disconnect.
func TestHandlerTransportStreams(t *testing.T) {
	next := make(chan struct{})
	cancelled := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "first\n")
		<-next
		_, _ = io.WriteString(w, "second\n")
		<-r.Context().Done()
		close(cancelled)
	})
	c := &http.Client{Transport: handlerTransport{h: h}}
	resp, err := c.Get("http://sous.internal/x")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d header %v", resp.StatusCode, resp.Header)
	}
	rd := bufio.NewReader(resp.Body)
	if line, _ := rd.ReadString('\n'); line != "first\n" {
		t.Fatalf("first line %q", line)
	}
	close(next) // the handler writes its second line only now
	if line, _ := rd.ReadString('\n'); line != "second\n" {
		t.Fatalf("second line %q", line)
	}
	resp.Body.Close()
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("closing the body did not cancel the handler's request")
	}
	// A request whose context ends before any header is written fails with that error.
	ctx, cancel := context.WithCancel(context.Background())
	block := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://sous.internal/y", nil)
	go cancel()
	if _, err := (&http.Client{Transport: handlerTransport{h: block}}).Do(req); err == nil {
		t.Fatal("a cancelled request returned a response")
	}
}
