package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/testenv"
)

// TestWorkersDedicatedToFunctions runs a control process and workers over real Redis,
// and over the codeQ driver against the control's embedded broker: a worker with
// worker.functions runs only those functions; another function's invocations stay
// queued until a worker serving it comes; a default worker picks up a function deployed
// after it started, without a restart.
func TestWorkersDedicatedToFunctions(t *testing.T) {
	rs := testenv.StartRedis(t)
	t.Run("redis", func(t *testing.T) { dedicatedWorkers(t, redisYAML(rs.URL, "20s"), nil) })
	t.Run("codeq", func(t *testing.T) {
		prod, work, http := freeAddr(t), freeAddr(t), freeAddr(t)
		yaml := fmt.Sprintf(`  messaging:
    driver: codeq
    codeq: {embedded: true, jwt_key: e2e-shared-key, producer_addr: %q, worker_addr: %q, http_addr: %q, lease_seconds: 5}
  events:
    driver: redisstream
    redisstream: {url: %q, prefix: e2e-codeq}
worker: {concurrency: 4, lease_seconds: 5, max_attempts: 3}
invoke: {idle_timeout: 20s, total_timeout: 60s}
`, prod, work, http, rs.URL)
		dedicatedWorkers(t, yaml, []string{"plugins.messaging.codeq.embedded=false"})
	})
}

func dedicatedWorkers(t *testing.T, yaml string, workerSets []string) {
	s := newStack(t, yaml)
	s.start("control", "control")
	worker := func(name string, sets ...string) *proc {
		return s.start(name, "worker", append(sets, workerSets...)...)
	}
	worker("w-bun", "worker.functions=hello-bun")
	worker("w-python", "worker.functions=default/hello-python")
	// Deployed after the dedicated workers started: they list deployed functions anew.
	for _, fn := range []string{"hello-bun", "hello-python", "chatty"} {
		s.deploy(fn)
	}
	c := s.client()
	ctx := context.Background()
	for _, fn := range []string{"hello-bun", "hello-python", "hello-bun", "hello-python"} {
		id, err := c.InvokeAsync(ctx, fn, []byte(`{"name":"dedicated"}`), client.InvokeOptions{})
		if err != nil {
			t.Fatalf("invoke %s: %v", fn, err)
		}
		waitStatus(t, c, id, "succeeded", 60*time.Second)
		if w, want := ranOn(t, c, id), "w-"+fn[len("hello-"):]; w != want {
			t.Fatalf("%s ran on worker %q, want %q (worker.functions)", fn, w, want)
		}
	}
	// No worker serves chatty: its invocation stays queued, neither lost nor failed.
	queued, err := c.InvokeAsync(ctx, "chatty", []byte(`{"lines":1}`), client.InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if rec, err := c.GetInvocation(ctx, queued); err != nil || rec["status"] != "pending" {
		t.Fatalf("chatty with no worker serving it: want pending, got %v (%v)", rec, err)
	}
	worker("w-all")
	waitStatus(t, c, queued, "succeeded", 60*time.Second)
	if w := ranOn(t, c, queued); w != "w-all" {
		t.Fatalf("chatty ran on %q, want the default worker w-all", w)
	}
	// Deployed after w-all started: picked up without a restart.
	s.deploy("stream-python")
	res, err := c.Invoke(ctx, "stream-python", []byte(`{"n":2}`), client.InvokeOptions{})
	if err != nil || res.Status != "succeeded" {
		t.Fatalf("stream-python deployed after the default worker started: %+v, %v", res, err)
	}
	if w := ranOn(t, c, res.InvocationID); w != "w-all" {
		t.Fatalf("stream-python ran on %q, want w-all", w)
	}
}

// ranOn returns the worker id of the invocation's first running status event.
func ranOn(t *testing.T, c *client.Client, id string) string {
	t.Helper()
	var worker string
	err := c.Events(context.Background(), id, "", false, func(e client.Event) error {
		if e.Envelope.Type == "status" && worker == "" {
			worker = e.Envelope.Worker
		}
		return nil
	})
	if err != nil {
		t.Fatalf("events of %s: %v", id, err)
	}
	return worker
}
