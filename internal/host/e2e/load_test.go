package e2e

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/client"
)

// tally counts the final records of a load: by status and error kind, and the ids the
// host no longer knows (404) or that never reached a final status.
type tally struct {
	Accepted, Succeeded, Infra, User, Other int
	Lost                                    []string // 404: an id answered and then forgotten
	Open                                    []string // still pending/running at the deadline
	Records                                 map[string]map[string]any
}

func (t tally) String() string {
	return fmt.Sprintf("accepted %d: succeeded %d, failed infra %d, failed user %d, other %d, lost (404) %d, open %d",
		t.Accepted, t.Succeeded, t.Infra, t.User, t.Other, len(t.Lost), len(t.Open))
}

// fireAsync sends n async invocations at once and returns the ids the host answered
// with 202 (calls cut by a fault return no id and are not counted).
func fireAsync(c *client.Client, fn string, input []byte, n int) []string {
	return fireAsyncNotify(c, fn, input, n, nil)
}

// fireAsyncNotify is fireAsync that sends on answered (buffered n) after each 202.
func fireAsyncNotify(c *client.Client, fn string, input []byte, n int, answered chan<- struct{}) []string {
	var mu sync.Mutex
	var ids []string
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if id, err := c.InvokeAsync(ctx, fn, input, client.InvokeOptions{}); err == nil && id != "" {
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
				if answered != nil {
					answered <- struct{}{}
				}
			}
		}()
	}
	wg.Wait()
	return ids
}

// settle polls every id until its record is final or within ends, and tallies them.
func settle(t *testing.T, c *client.Client, ids []string, within time.Duration) tally {
	t.Helper()
	res := tally{Accepted: len(ids), Records: map[string]map[string]any{}}
	deadline := time.Now().Add(within)
	pending := append([]string(nil), ids...)
	for len(pending) > 0 && time.Now().Before(deadline) {
		var next []string
		for _, id := range pending {
			rec, err := c.GetInvocation(context.Background(), id)
			var apiErr *client.APIError
			switch {
			case errors.As(err, &apiErr) && apiErr.Status == 404:
				res.Lost = append(res.Lost, id)
			case err != nil || rec["status"] == "pending" || rec["status"] == "running":
				next = append(next, id)
			default:
				res.Records[id] = rec
			}
		}
		pending = next
		if len(pending) > 0 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	res.Open = pending
	for _, rec := range res.Records {
		kind := ""
		if e, ok := rec["error"].(map[string]any); ok {
			kind, _ = e["kind"].(string)
		}
		switch {
		case rec["status"] == "succeeded":
			res.Succeeded++
		case kind == "infra":
			res.Infra++
		case kind == "user":
			res.User++
		default:
			res.Other++
		}
	}
	sort.Strings(res.Lost)
	return res
}

// errorOf is a final record's error message ("" when none).
func errorOf(rec map[string]any) string {
	if e, ok := rec["error"].(map[string]any); ok {
		return fmt.Sprint(e["kind"]) + ": " + fmt.Sprint(e["message"])
	}
	return ""
}

// userFailures lists the records blamed on the function, for failure messages.
func (t tally) userFailures() string {
	var out []string
	for id, rec := range t.Records {
		if strings.HasPrefix(errorOf(rec), "user:") {
			out = append(out, id+" "+errorOf(rec))
		}
	}
	return strings.Join(out, "\n")
}
