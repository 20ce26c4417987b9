package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/testenv"
)

// TestIdempotencyKeyReturnsTheSameInvocation: the same Idempotency-Key gives the same
// invocation, which ran once.
func TestIdempotencyKeyReturnsTheSameInvocation(t *testing.T) {
	rs := testenv.StartRedis(t)
	s := newStack(t, redisYAML(rs.URL, "10s"))
	s.start("all", "all")
	s.deploy("hello-python")
	c, ctx := s.client(), context.Background()
	opts := client.InvokeOptions{IdempotencyKey: "order-42"}
	first, err := c.Invoke(ctx, "hello-python", []byte(`{"name":"once"}`), opts)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Invoke(ctx, "hello-python", []byte(`{"name":"twice"}`), opts)
	if err != nil {
		t.Fatal(err)
	}
	if first.InvocationID != second.InvocationID || string(second.Output) != string(first.Output) {
		t.Fatalf("same key gave %s (%s) then %s (%s)", first.InvocationID, first.Output, second.InvocationID, second.Output)
	}
	async, err := c.InvokeAsync(ctx, "hello-python", nil, opts)
	if err != nil || async != first.InvocationID {
		t.Fatalf("async with the same key: %q, %v", async, err)
	}
	var list struct {
		Invocations []map[string]any `json:"invocations"`
	}
	if err := c.Do(ctx, "GET", "/v1/invocations?function=hello-python", nil, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Invocations) != 1 {
		t.Fatalf("want 1 invocation recorded, got %d", len(list.Invocations))
	}
	other, err := c.Invoke(ctx, "hello-python", nil, client.InvokeOptions{IdempotencyKey: "order-43"})
	if err != nil || other.InvocationID == first.InvocationID {
		t.Fatalf("a new key must give a new invocation: %+v %v", other, err)
	}
	// A version run as an env it is not in would get that env's debug logs: refused.
	var apiErr *client.APIError
	err = c.Do(ctx, "POST", "/v1/functions/hello-python/invoke?version=1&env=prod", nil, nil)
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || !strings.Contains(apiErr.Error(), `env "prod" does not point at version 1`) {
		t.Fatalf("version=1&env=prod: want 400 naming the mismatch, got %v", err)
	}
}

// TestReaperMarksStaleInvocations: with no worker, an async invocation stuck in pending
// is marked timeout by the reaper once it is older than stale_after.
func TestReaperMarksStaleInvocations(t *testing.T) {
	rs := testenv.StartRedis(t)
	s := newStack(t, redisYAML(rs.URL, "60s"))
	s.start("control", "control", "invoke.stale_after=1s", "invoke.reaper_interval=200ms")
	s.deploy("hello-bun")
	c := s.client()
	id, err := c.InvokeAsync(context.Background(), "hello-bun", nil, client.InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := waitStatus(t, c, id, "timeout", 15*time.Second)
	if e, _ := rec["error"].(map[string]any); e == nil || e["kind"] != "timeout" || !strings.Contains(e["message"].(string), "did not finish") {
		t.Fatalf("reaped record: %v", rec)
	}
}

// TestInlineWithoutEventsDriver: with plugins.events.driver none, sync and stream
// calls run in the host process; async still goes through messaging and its record is
// finalized from the messaging result.
func TestInlineWithoutEventsDriver(t *testing.T) {
	rs := testenv.StartRedis(t)
	yaml := strings.Replace(redisYAML(rs.URL, "10s"), "    driver: redisstream", "    driver: none", 1)
	s := newStack(t, yaml)
	s.start("all", "all")
	for _, fn := range []string{"hello-bun", "stream-python", "chatty"} {
		s.deploy(fn)
	}
	c, ctx := s.client(), context.Background()
	res, err := c.Invoke(ctx, "hello-bun", []byte(`{"name":"inline"}`), client.InvokeOptions{})
	if err != nil || res.Status != "succeeded" || !strings.Contains(string(res.Output), "inline") {
		t.Fatalf("inline JSON: %+v %v", res, err)
	}
	logs, err := c.Invoke(ctx, "chatty", []byte(`{"lines":2}`), client.InvokeOptions{})
	if err != nil || len(logs.Logs) != 3 {
		t.Fatalf("inline dev logs: %+v %v", logs, err)
	}
	var chunks int
	err = c.InvokeStream(ctx, "stream-python", []byte(`{"n":4}`), client.InvokeOptions{}, func(e client.Event) error {
		if e.Envelope.Type == "chunk" {
			chunks++
		}
		return nil
	})
	if err != nil || chunks != 4 {
		t.Fatalf("inline stream: %d chunks, %v", chunks, err)
	}
	id, err := c.InvokeAsync(ctx, "hello-bun", []byte(`{"name":"queued"}`), client.InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := waitStatus(t, c, id, "succeeded", 20*time.Second)
	if !strings.Contains(string(mustJSON(rec["output"])), "queued") {
		t.Fatalf("async record %v", rec)
	}
}

// TestRunsLostToInfrastructureFailAsInfra: a run whose worker dies on every attempt is
// redelivered up to max_attempts, then dead-lettered and failed with kind infra (the
// surviving worker's next claim finds the expired lease past its last attempt).
func TestRunsLostToInfrastructureFailAsInfra(t *testing.T) {
	rs := testenv.StartRedis(t)
	s := newStack(t, strings.Replace(redisYAML(rs.URL, "30s"), "max_attempts: 3", "max_attempts: 2", 1))
	s.start("control", "control")
	workers := map[string]*proc{"w1": s.start("w1", "worker"), "w2": s.start("w2", "worker"), "w3": s.start("w3", "worker")}
	s.deploy("slow")
	c, ctx := s.client(), context.Background()
	id, err := c.InvokeAsync(ctx, "slow", []byte(`{"ms":20000}`), client.InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= 2; attempt++ {
		w := waitAttempt(t, c, id, attempt)
		workers[w].kill()
	}
	rec := waitStatus(t, c, id, "failed", 60*time.Second)
	if e, _ := rec["error"].(map[string]any); e == nil || e["kind"] != "infra" {
		t.Fatalf("want kind infra, record %v", rec)
	}
}

// waitAttempt follows the events until the status of the given attempt and returns
// the worker running it.
func waitAttempt(t *testing.T, c *client.Client, id string, attempt int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	worker := ""
	_ = c.Events(ctx, id, "", true, func(e client.Event) error {
		if e.Envelope.Type == "status" && e.Envelope.Attempt == attempt {
			worker = e.Envelope.Worker
			cancel()
		}
		return nil
	})
	if worker == "" {
		t.Fatalf("attempt %d of %s never started", attempt, id)
	}
	return worker
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

// TestEventsFallbackInline: with events.fallback inline, a sync invocation still
// answers while the events Redis is down (it runs in the host process), and the queued
// path takes over again once it is back.
func TestEventsFallbackInline(t *testing.T) {
	queue, evs := testenv.StartRedis(t), testenv.StartRedis(t)
	yaml := strings.Replace(redisYAML(queue.URL, "10s"), fmt.Sprintf("redisstream: {url: %q", queue.URL), fmt.Sprintf("redisstream: {url: %q", evs.URL), 1)
	yaml = strings.Replace(yaml, "    driver: redisstream\n", "    driver: redisstream\n    fallback: inline\n", 1)
	s := newStack(t, yaml)
	s.start("all", "all")
	s.deploy("hello-python")
	c, ctx := s.client(), context.Background()
	invoke := func(want string) {
		t.Helper()
		res, err := c.Invoke(ctx, "hello-python", []byte(`{"name":"`+want+`"}`), client.InvokeOptions{})
		if err != nil || res.Status != "succeeded" || !strings.Contains(string(res.Output), want) {
			t.Fatalf("invoke while %s: %+v %v", want, res, err)
		}
	}
	invoke("up")
	evs.Kill()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := c.Invoke(ctx, "hello-python", []byte(`{"name":"down"}`), client.InvokeOptions{})
		if err == nil && res.Status == "succeeded" && strings.Contains(string(res.Output), "down") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no inline answer with the events Redis down: %+v %v", res, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The host notices the outage at its next health check, within a second of the
	// first failure: until then a call is still queued (and a JSON one answered, from
	// the run this host's worker holds); from then on sync calls run inline.
	for {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		ran, answered := "", false
		_, err := c.InvokeEvents(cctx, "hello-python", []byte(`{"name":"inline"}`), client.InvokeOptions{}, func(ev client.Event) error {
			if ev.Envelope.Type == "status" && ev.Envelope.Status == "running" {
				ran = ev.Envelope.Worker
			}
			answered = answered || ev.Envelope.Type == "result" && strings.Contains(string(ev.Envelope.Output), "inline")
			return nil
		})
		cancel()
		if err == nil && ran == "inline" && answered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the answer did not come from the inline fallback: run by %q, result %v, %v", ran, answered, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	evs.Start()
	invoke("back")
}

// TestInlineRunOutlivesAStalledClient: in inline mode a stream caller that stops reading
// (but keeps its connection) must not hold the run: it ends at total_timeout and its
// record says so.
func TestInlineRunOutlivesAStalledClient(t *testing.T) {
	rs := testenv.StartRedis(t)
	yaml := strings.Replace(redisYAML(rs.URL, "10s"), "    driver: redisstream", "    driver: none", 1)
	s := newStack(t, yaml)
	s.start("all", "all", "invoke.total_timeout=4s")
	s.deploy("stream-python")
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.apiURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"n":3000000}`
	fmt.Fprintf(conn, "POST /v1/functions/stream-python/invoke HTTP/1.1\r\nHost: sous\r\nAuthorization: Bearer %s\r\n"+
		"Accept: text/event-stream\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", s.admin, len(body), body)
	// Never read the response: the socket buffers fill and every write blocks.
	c, ctx := s.client(), context.Background()
	var id string
	deadline := time.Now().Add(20 * time.Second)
	for ; time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var list struct {
			Invocations []map[string]any `json:"invocations"`
		}
		if err := c.Do(ctx, "GET", "/v1/invocations?function=stream-python", nil, &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Invocations) == 1 {
			id = fmt.Sprint(list.Invocations[0]["id"])
			if st := list.Invocations[0]["status"]; st != "pending" && st != "running" {
				break
			}
		}
	}
	rec := waitStatus(t, c, id, "timeout", time.Second)
	if !strings.Contains(fmt.Sprint(rec["error"]), "4s") {
		t.Fatalf("record %v: want a timeout naming total_timeout", rec)
	}
}
