package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/sdk/envelope"
	"github.com/sous-run/sous/sdk/rawjson"
)

// InvokeOptions select what to run and how.
type InvokeOptions struct {
	Env            string // alias to run (default dev)
	Version        int    // a version number instead of an alias
	IdempotencyKey string
	CallbackURL    string // completion webhook of an async invoke (Sous-Callback-Url)
}

// InvokeResult is the buffered JSON answer of a sync invocation.
type InvokeResult = wire.InvokeResult

// Event is one SSE event of an invocation.
type Event struct {
	ID       string
	Envelope *envelope.Envelope
}

func invokePath(name string, o InvokeOptions) string {
	q := url.Values{}
	if o.Env != "" {
		q.Set("env", o.Env)
	}
	if o.Version > 0 {
		q.Set("version", fmt.Sprint(o.Version))
	}
	p := "/v1/functions/" + url.PathEscape(name) + "/invoke"
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}

// post sends input (raw JSON, nil = null) to the invoke endpoint with extra headers.
func (c *Client) post(ctx context.Context, name string, input []byte, o InvokeOptions, hdr map[string]string) (*http.Response, error) {
	req, err := c.NewRequest(ctx, "POST", invokePath(name, o), nil)
	if err != nil {
		return nil, err
	}
	if input == nil {
		input = []byte("null")
	}
	req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(input)), int64(len(input))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(input)), nil }
	req.Header.Set("Content-Type", "application/json")
	if o.IdempotencyKey != "" {
		req.Header.Set("Idempotency-Key", o.IdempotencyKey)
	}
	if o.CallbackURL != "" {
		req.Header.Set("Sous-Callback-Url", o.CallbackURL)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.send(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", name, err)
	}
	if err := CheckResponse(resp); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// Invoke runs a function and waits for its buffered JSON result.
func (c *Client) Invoke(ctx context.Context, name string, input []byte, o InvokeOptions) (*InvokeResult, error) {
	resp, err := c.post(ctx, name, input, o, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read result of %s: %w", name, err)
	}
	var out InvokeResult
	output, err := rawjson.UnmarshalCut(body, "output", &out) // a large output is not decoded
	if err != nil {
		return nil, fmt.Errorf("decode result of %s: %w", name, err)
	}
	if output != nil {
		out.Output = output
	}
	return &out, nil
}

// InvokeAsync queues a function and returns its invocation id at once.
func (c *Client) InvokeAsync(ctx context.Context, name string, input []byte, o InvokeOptions) (string, error) {
	resp, err := c.post(ctx, name, input, o, map[string]string{"Prefer": "respond-async"})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out wire.AsyncResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("decode answer of %s: %w", name, err)
	}
	return out.InvocationID, nil
}

// InvokeStream runs a function and calls fn for each event as it arrives (SSE).
func (c *Client) InvokeStream(ctx context.Context, name string, input []byte, o InvokeOptions, fn func(Event) error) error {
	resp, err := c.post(ctx, name, input, o, map[string]string{"Accept": "text/event-stream"})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return ReadSSE(resp.Body, fn)
}

// Events reads an invocation's events after lastEventID ("" = all): with follow it
// replays then waits for live events until done; without, it stops at what is stored.
func (c *Client) Events(ctx context.Context, id, lastEventID string, follow bool, fn func(Event) error) error {
	path := invocationPath(id) + "/events"
	if !follow {
		path += "?follow=0"
	}
	req, err := c.NewRequest(ctx, "GET", path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := c.send(req)
	if err != nil {
		return fmt.Errorf("events of %s: %w", id, err)
	}
	defer resp.Body.Close()
	if err := CheckResponse(resp); err != nil {
		return err
	}
	err = ReadSSE(resp.Body, fn)
	if !follow && errors.Is(err, errNoDone) {
		return nil
	}
	return err
}

// Invocation returns an invocation record.
func (c *Client) Invocation(ctx context.Context, id string) (*wire.Invocation, error) {
	var out wire.Invocation
	return &out, c.Do(ctx, "GET", invocationPath(id), nil, &out)
}

// GetInvocation returns an invocation record as generic JSON, for callers that index
// its fields by name; Invocation is the typed form.
func (c *Client) GetInvocation(ctx context.Context, id string) (map[string]any, error) {
	var out map[string]any
	return out, c.Do(ctx, "GET", invocationPath(id), nil, &out)
}

func invocationPath(id string) string { return "/v1/invocations/" + url.PathEscape(id) }

// ReadSSE parses a text/event-stream body and calls fn per event until the done
// envelope or the end of the body. Its line buffer starts small and grows to the
// longest line (at most envelope.MaxLine): a call of a short run allocates little.
func ReadSSE(r io.Reader, fn func(Event) error) error {
	buf := sseBufs.Get().(*[]byte)
	defer sseBufs.Put(buf)
	s := bufio.NewScanner(r)
	s.Buffer((*buf)[:0], envelope.MaxLine) // a longer line grows a buffer of its own
	var id string
	var data []byte
	for s.Scan() {
		line := s.Bytes() // valid until the next Scan: what is kept is copied
		switch {
		case len(line) == 0:
			if len(data) == 0 {
				continue
			}
			e, err := envelope.Unmarshal(data)
			if err != nil {
				return fmt.Errorf("bad event %s: %w", id, err)
			}
			if err := fn(Event{ID: id, Envelope: e}); err != nil {
				return err
			}
			if e.Type == envelope.TypeDone {
				return nil
			}
			id, data = "", data[:0] // Unmarshal copied what it keeps
		case bytes.HasPrefix(line, []byte("id:")):
			id = string(bytes.TrimSpace(line[3:]))
		case bytes.HasPrefix(line, []byte("data:")):
			data = append(data, bytes.TrimPrefix(line[5:], []byte(" "))...)
		}
	}
	if err := s.Err(); err != nil {
		return fmt.Errorf("read event stream: %w", err)
	}
	return errNoDone
}

// sseBufs holds ReadSSE's line buffers, one per stream read at a time.
var sseBufs = sync.Pool{New: func() any { b := make([]byte, 4<<10); return &b }}

var errNoDone = errors.New("event stream ended before done")

// ListInvocations lists invocation records, newest first, filtered by function
// and status ("" = any) and at most limit of them (0 = the API's default).
func (c *Client) ListInvocations(ctx context.Context, function, status string, limit int) ([]*wire.Invocation, error) {
	q := url.Values{}
	if function != "" {
		q.Set("function", function)
	}
	if status != "" {
		q.Set("status", status)
	}
	if limit > 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	path := "/v1/invocations"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out wire.InvocationList
	return out.Invocations, c.Do(ctx, "GET", path, nil, &out)
}
