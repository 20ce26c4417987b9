package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/redisconn/conftest"
	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/plugintest"
)

func TestConfigErrors(t *testing.T) {
	conftest.Run(t, testenv.Plugin(t, "messaging-redis"), sdk.KindMessaging)
}

// TestKilledConsumerLosesNothing kills (SIGKILL) the plugin process holding a lease; a
// new plugin process redelivers the task after the lease expires, and the dead
// process's lease is refused.
func TestKilledConsumerLosesNothing(t *testing.T) {
	ctx := context.Background()
	r := testenv.StartRedis(t)
	tg := plugintest.Target{Path: testenv.Plugin(t, "messaging-redis"), Config: testConfig(r)}
	a := plugintest.Launch(t, tg, sdk.KindMessaging)
	task := sdk.Task{Tenant: "acme", Command: "sous.run.bun", Payload: []byte(`{"n":7}`)}
	enq, err := a.Messaging.Enqueue(ctx, task)
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	first := plugintest.OpenConsumer(t, a.Messaging, "acme", []string{"sous.run.bun"}, 1*time.Second, 1, 30*time.Second).Next()
	pid := a.Pid()
	a.Kill()
	for end := time.Now().Add(10 * time.Second); testenv.ProcessAlive(pid); {
		if time.Now().After(end) {
			t.Fatalf("plugin %d survived SIGKILL", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}

	b := plugintest.Launch(t, tg, sdk.KindMessaging)
	again := plugintest.OpenConsumer(t, b.Messaging, "acme", []string{"sous.run.bun"}, 30*time.Second, 1, 30*time.Second).Next()
	if again.Task.ID != enq.ID || again.Task.Attempt != 2 || string(again.Task.Payload) != `{"n":7}` {
		t.Fatalf("redelivered %+v, want task %s attempt 2 with its payload", again.Task, enq.ID)
	}
	err = b.Messaging.Ack(ctx, sdk.Lease{Tenant: "acme", TaskID: enq.ID, ID: first.Lease.ID}, []byte(`{}`))
	if !errors.Is(err, sdk.ErrRefused) {
		t.Fatalf("Ack with the killed consumer's lease: %v, want FailedPrecondition", err)
	}
	if err := b.Messaging.Ack(ctx, sdk.Lease{Tenant: "acme", TaskID: enq.ID, ID: again.Lease.ID}, []byte(`{"v":1}`)); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	res, err := b.Messaging.Result(ctx, "acme", enq.ID)
	if err != nil || res.Status != "completed" || res.Attempts != 2 {
		t.Fatalf("GetResult = %+v, %v; want completed after 2 attempts", res, err)
	}
}

func TestOversizePayloadRefused(t *testing.T) {
	r := testenv.StartRedis(t)
	cfg := fmt.Sprintf(`{"url":%q,"max_payload_bytes":100}`, r.URL)
	c := plugintest.Launch(t, plugintest.Target{Path: testenv.Plugin(t, "messaging-redis"), Config: cfg}, sdk.KindMessaging)
	big := []byte(`{"x":"` + strings.Repeat("a", 200) + `"}`)
	_, err := c.Messaging.Enqueue(context.Background(), sdk.Task{Tenant: "acme", Command: "c", Payload: big})
	if !errors.Is(err, sdk.ErrInvalid) || !strings.Contains(err.Error(), "max_payload_bytes 100") {
		t.Fatalf("oversize Enqueue: %v; want InvalidArgument naming max_payload_bytes", err)
	}
	st, err := c.Messaging.Stats(context.Background(), "acme", []string{"c"})
	if err != nil || st[0].Pending != 0 {
		t.Fatalf("Stats after a refused Enqueue = %v, %v; want nothing stored", st, err)
	}
}
