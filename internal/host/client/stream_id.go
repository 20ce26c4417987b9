package client

import "context"

// InvokeEvents runs a function over SSE like InvokeStream and returns the
// invocation id the host answered with (Sous-Invocation-Id), for callers that
// show or record it while events arrive.
func (c *Client) InvokeEvents(ctx context.Context, name string, input []byte, o InvokeOptions, fn func(Event) error) (string, error) {
	resp, err := c.post(ctx, name, input, o, map[string]string{"Accept": "text/event-stream"})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	id := resp.Header.Get("Sous-Invocation-Id")
	return id, ReadSSE(resp.Body, fn)
}
