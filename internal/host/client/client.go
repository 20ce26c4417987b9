// Package client is the Go client of the Sous HTTP API used by the CLI. It
// also finds the API address and token (flags, environment, the dev host's
// data directory) and packs a function directory for deploy.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/sous-run/sous/internal/host/api/wire"
)

// Client talks to one Sous API.
type Client struct {
	BaseURL string       // e.g. http://127.0.0.1:8080
	Token   string       // bearer token; empty sends none
	HTTP    *http.Client // defaults to a client with a 5-minute timeout
	// ConnectWait is how long a request is retried while nothing listens at
	// the address yet (a host that is still starting); New sets 15 s.
	ConnectWait time.Duration
}

// New returns a client for the API at addr ("host:port" or a full URL).
func New(addr, token string) *Client {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	return &Client{BaseURL: strings.TrimRight(addr, "/"), Token: token, HTTP: &http.Client{Timeout: 5 * time.Minute, Transport: transport}, ConnectWait: 15 * time.Second}
}

// APIError is an error response of the API.
type APIError struct {
	Status    int
	Code      string
	Message   string
	RequestID string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s (HTTP %d %s, request %s)", e.Message, e.Status, e.Code, e.RequestID)
}

// NewRequest builds a request to path (relative to BaseURL) with the token set.
// body, if not nil, is sent as JSON.
func (c *Client) NewRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return req, nil
}

// Do sends method path with body as JSON (nil for none) and decodes a 2xx
// JSON answer into out (nil to discard). A non-2xx answer is an *APIError.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	req, err := c.NewRequest(ctx, method, path, body)
	if err != nil {
		return err
	}
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := CheckResponse(resp); err != nil {
		return err
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s %s answer: %w", method, path, err)
	}
	return nil
}

// CheckResponse returns nil for a 2xx response, else the *APIError in its body.
func CheckResponse(resp *http.Response) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	var body wire.ErrorBody
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := json.Unmarshal(data, &body); err != nil || body.Error.Code == "" {
		return &APIError{Status: resp.StatusCode, Code: "http_error", Message: strings.TrimSpace(string(data))}
	}
	return &APIError{Status: resp.StatusCode, Code: body.Error.Code, Message: body.Error.Message, RequestID: body.Error.RequestID}
}

// send is HTTP.Do, retried every 200 ms for up to ConnectWait while the
// connection is refused (nothing was sent, so even a POST is safe to repeat).
func (c *Client) send(req *http.Request) (*http.Response, error) {
	deadline := time.Now().Add(c.ConnectWait)
	for {
		resp, err := c.HTTP.Do(req)
		if err == nil {
			return resp, nil
		}
		var op *net.OpError
		if !errors.As(err, &op) || op.Op != "dial" {
			return nil, err
		}
		if !errors.Is(err, syscall.ECONNREFUSED) || time.Now().After(deadline) || req.Context().Err() != nil {
			return nil, fmt.Errorf("no Sous host answers at %s: %w; is it running? `make run` starts a dev host, "+
				"--api or SOUS_API names another", c.BaseURL, err)
		}
		if req.GetBody != nil {
			if req.Body, err = req.GetBody(); err != nil {
				return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
			}
		}
		select {
		case <-req.Context().Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}
