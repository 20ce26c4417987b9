package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk/envelope"
)

func redisYAML(url string, idle string) string {
	return fmt.Sprintf(`  messaging:
    driver: redis
    redis: {url: %q, prefix: e2e}
  events:
    driver: redisstream
    redisstream: {url: %q, prefix: e2e}
worker: {concurrency: 4, lease_seconds: 2, max_attempts: 3}
invoke: {idle_timeout: %s, total_timeout: 60s}
`, url, url, idle)
}

// TestSplitRolesOverRedis runs a control process and two worker processes over real
// Redis (messaging-redis + events-redisstream) with real Bun and Python.
func TestSplitRolesOverRedis(t *testing.T) {
	rs := testenv.StartRedis(t)
	s := newStack(t, redisYAML(rs.URL, "10s"))
	s.start("control", "control")
	workers := map[string]*proc{"w1": s.start("w1", "worker"), "w2": s.start("w2", "worker")}
	for _, fn := range []string{"hello-bun", "hello-python", "stream-bun", "stream-python", "chatty", "fails", "slow"} {
		s.deploy(fn)
	}
	c := s.client()
	ctx := context.Background()

	t.Run("sync JSON in both runtimes", func(t *testing.T) {
		for _, fn := range []string{"hello-bun", "hello-python"} {
			res, err := c.Invoke(ctx, fn, []byte(`{"name":"e2e"}`), client.InvokeOptions{})
			if err != nil {
				t.Fatalf("%s: %v", fn, err)
			}
			var out map[string]any
			_ = json.Unmarshal(res.Output, &out)
			if res.Status != "succeeded" || out["hello"] != "e2e" || out["env"] != "dev" {
				t.Fatalf("%s: got %+v output %s", fn, res, res.Output)
			}
		}
	})

	t.Run("SSE delivers chunks in order with ids", func(t *testing.T) {
		resp, sc := s.sse(ctx, "POST", "/v1/functions/stream-bun/invoke", `{"text":"a b c d e"}`, nil)
		defer resp.Body.Close()
		evs := readSSE(t, sc)
		var chunks []string
		var types []string
		for _, e := range evs {
			types = append(types, e.Type)
			if e.Type == "chunk" {
				var s string
				_ = json.Unmarshal(e.Data, &s)
				chunks = append(chunks, s)
				if e.Seq != int64(len(chunks)) {
					t.Fatalf("chunk %d has seq %d", len(chunks), e.Seq)
				}
			}
			if e.ID == "" {
				t.Fatalf("event %s has no id", e.Type)
			}
		}
		if strings.Join(chunks, "") != "a b c d e " {
			t.Fatalf("chunks %q", chunks)
		}
		if types[0] != "status" || types[len(types)-2] != "result" || types[len(types)-1] != "done" {
			t.Fatalf("event order %v", types)
		}
	})

	t.Run("async then GET", func(t *testing.T) {
		id, err := c.InvokeAsync(ctx, "hello-python", []byte(`{"name":"later"}`), client.InvokeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rec := waitStatus(t, c, id, "succeeded", 30*time.Second)
		if !strings.Contains(fmt.Sprint(rec["output"]), "later") {
			t.Fatalf("record %v", rec)
		}
	})

	t.Run("resume with Last-Event-ID", func(t *testing.T) {
		id, err := c.InvokeAsync(ctx, "stream-python", []byte(`{"n":5}`), client.InvokeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var all []client.Event
		if err := c.Events(ctx, id, "", true, func(e client.Event) error { all = append(all, e); return nil }); err != nil {
			t.Fatal(err)
		}
		var rest []client.Event
		if err := c.Events(ctx, id, all[2].ID, true, func(e client.Event) error { rest = append(rest, e); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(rest) != len(all)-3 || rest[0].ID != all[3].ID || rest[len(rest)-1].Envelope.Type != "done" {
			t.Fatalf("resume after %s: got %d events from %s, want %d from %s", all[2].ID, len(rest), rest[0].ID, len(all)-3, all[3].ID)
		}
		var apiErr *client.APIError
		err = c.Events(ctx, id, "banana", true, func(client.Event) error { return nil })
		if !errors.As(err, &apiErr) || apiErr.Status != 400 || !strings.Contains(err.Error(), `"banana" is not an event id`) {
			t.Fatalf("resume after a bad id: want 400 naming it, got %v", err)
		}
	})

	t.Run("logs in dev, none in prod nor in Redis", func(t *testing.T) {
		dev, err := c.Invoke(ctx, "chatty", []byte(`{"lines":5}`), client.InvokeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(dev.Logs) != 6 {
			t.Fatalf("dev: want 6 log lines, got %d: %+v", len(dev.Logs), dev.Logs)
		}
		if _, err := c.SetAlias(ctx, "chatty", "prod", 1); err != nil {
			t.Fatal(err)
		}
		prod, err := c.Invoke(ctx, "chatty", []byte(`{"lines":5}`), client.InvokeOptions{Env: "prod"})
		if err != nil {
			t.Fatal(err)
		}
		if len(prod.Logs) != 0 || prod.Status != "succeeded" {
			t.Fatalf("prod: want no logs, got %+v", prod)
		}
		rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
		defer rdb.Close()
		keys, _ := rdb.Keys(ctx, "*"+prod.InvocationID+"*").Result()
		if len(keys) == 0 {
			t.Fatalf("no Redis key holds the prod invocation's events")
		}
		for _, k := range keys {
			if typ, _ := rdb.Type(ctx, k).Result(); typ != "stream" {
				continue
			}
			msgs, _ := rdb.XRange(ctx, k, "-", "+").Result()
			for _, m := range msgs {
				if strings.Contains(fmt.Sprint(m.Values), `"type":"log"`) {
					t.Fatalf("prod log stored in Redis key %s: %v", k, m.Values)
				}
			}
		}
	})

	t.Run("a function's error is a result, not retried", func(t *testing.T) {
		res, err := c.Invoke(ctx, "fails", nil, client.InvokeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != "failed" || res.Error == nil || res.Error.Kind != "user" || !strings.Contains(res.Error.Message, "on purpose") {
			t.Fatalf("got %+v", res)
		}
		rec := waitStatus(t, c, res.InvocationID, "failed", 10*time.Second)
		if rec["attempts"] != float64(1) {
			t.Fatalf("attempts %v, want 1", rec["attempts"])
		}
	})

	t.Run("client disconnect still finalizes the record", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		resp, sc := s.sse(cctx, "POST", "/v1/functions/slow/invoke", `{"ms":1500}`, nil)
		id := resp.Header.Get("Sous-Invocation-Id")
		for sc.Scan() && !strings.HasPrefix(sc.Text(), "event: chunk") {
		}
		cancel()
		resp.Body.Close()
		waitStatus(t, c, id, "succeeded", 30*time.Second)
	})

	t.Run("a worker killed mid-run: the other finishes it", func(t *testing.T) {
		id, err := c.InvokeAsync(ctx, "slow", []byte(`{"ms":3000}`), client.InvokeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		first := ""
		ectx, cancel := context.WithCancel(ctx)
		_ = c.Events(ectx, id, "", true, func(e client.Event) error {
			if e.Envelope.Type == "status" {
				first = e.Envelope.Worker
				cancel()
			}
			return nil
		})
		cancel()
		victim := workers[first]
		if victim == nil {
			t.Fatalf("status came from unknown worker %q", first)
		}
		victim.kill()
		rec := waitStatus(t, c, id, "succeeded", 60*time.Second)
		if rec["attempts"].(float64) < 2 {
			t.Fatalf("want a second attempt after the kill, record %v", rec)
		}
		var statuses []string
		_ = c.Events(ctx, id, "", false, func(e client.Event) error {
			if e.Envelope.Type == "status" {
				statuses = append(statuses, fmt.Sprintf("%s#%d", e.Envelope.Worker, e.Envelope.Attempt))
			}
			return nil
		})
		if len(statuses) < 2 || strings.HasPrefix(statuses[len(statuses)-1], first+"#") {
			t.Fatalf("status events %v: want the last attempt on the surviving worker", statuses)
		}
	})
}

// TestNoWorkerTimesOut: with no worker running, the caller gets a timeout after the
// configured idle window (HTTP 504, error kind timeout); the record stays open.
func TestNoWorkerTimesOut(t *testing.T) {
	rs := testenv.StartRedis(t)
	s := newStack(t, redisYAML(rs.URL, "1500ms"))
	s.start("control", "control")
	s.deploy("hello-bun")
	req, _ := http.NewRequest("POST", s.apiURL+"/v1/functions/hello-bun/invoke", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+s.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body client.InvokeResult
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusGatewayTimeout || body.Status != "timeout" || body.Error == nil || body.Error.Kind != "timeout" {
		t.Fatalf("HTTP %d body %+v", resp.StatusCode, body)
	}
	// The caller gave up; the record is not called a timeout yet: the run may still
	// finish within total_timeout (the reaper or the total timeout decide).
	rec, err := s.client().GetInvocation(context.Background(), body.InvocationID)
	if err != nil || rec["status"] != "pending" {
		t.Fatalf("record after the caller's idle timeout: %v %v", rec, err)
	}
}

// readSSE reads events until done.
func readSSE(t *testing.T, sc interface {
	Scan() bool
	Text() string
}) []envelope.Envelope {
	t.Helper()
	var out []envelope.Envelope
	var id string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id = line[4:]
		case strings.HasPrefix(line, "data: "):
			e, err := envelope.Unmarshal([]byte(line[6:]))
			if err != nil {
				t.Fatalf("bad SSE data %q: %v", line, err)
			}
			e.ID = id
			out = append(out, *e)
			if e.Type == "done" {
				return out
			}
			id = ""
		}
	}
	t.Fatalf("SSE ended before done after %d events", len(out))
	return nil
}

// waitStatus polls GET /v1/invocations/{id} until the record has status.
func waitStatus(t *testing.T, c *client.Client, id, status string, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	var rec map[string]any
	for time.Now().Before(deadline) {
		var err error
		rec, err = c.GetInvocation(context.Background(), id)
		if err == nil && rec["status"] == status {
			return rec
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("invocation %s: want status %s, last record %v", id, status, rec)
	return nil
}
