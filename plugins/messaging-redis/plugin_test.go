package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/internal/redisconn/conftest"
	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/plugintest"
	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
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
	task := &messagingpb.Task{Tenant: "acme", Command: "sous.run.bun", Payload: []byte(`{"n":7}`)}
	enq, err := a.Messaging.Enqueue(ctx, &messagingpb.EnqueueRequest{Task: task})
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	first := plugintest.OpenConsumer(t, a.Messaging, "acme", []string{"sous.run.bun"}, 1, 1, 30*time.Second).Next()
	pid := a.Pid()
	a.Kill()
	for end := time.Now().Add(10 * time.Second); testenv.ProcessAlive(pid); {
		if time.Now().After(end) {
			t.Fatalf("plugin %d survived SIGKILL", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}

	b := plugintest.Launch(t, tg, sdk.KindMessaging)
	again := plugintest.OpenConsumer(t, b.Messaging, "acme", []string{"sous.run.bun"}, 30, 1, 30*time.Second).Next()
	if again.Task.Id != enq.Id || again.Task.Attempt != 2 || string(again.Task.Payload) != `{"n":7}` {
		t.Fatalf("redelivered %+v, want task %s attempt 2 with its payload", again.Task, enq.Id)
	}
	_, err = b.Messaging.Ack(ctx, &messagingpb.AckRequest{Tenant: "acme", Id: enq.Id, LeaseId: first.LeaseId, ResultJson: []byte(`{}`)})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("Ack with the killed consumer's lease: %v, want FailedPrecondition", err)
	}
	if _, err := b.Messaging.Ack(ctx, &messagingpb.AckRequest{Tenant: "acme", Id: enq.Id, LeaseId: again.LeaseId, ResultJson: []byte(`{"v":1}`)}); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	res, err := b.Messaging.GetResult(ctx, &messagingpb.GetResultRequest{Tenant: "acme", Id: enq.Id})
	if err != nil || res.Status != "completed" || res.Attempts != 2 {
		t.Fatalf("GetResult = %+v, %v; want completed after 2 attempts", res, err)
	}
}

func TestOversizePayloadRefused(t *testing.T) {
	r := testenv.StartRedis(t)
	cfg := fmt.Sprintf(`{"url":%q,"max_payload_bytes":100}`, r.URL)
	c := plugintest.Launch(t, plugintest.Target{Path: testenv.Plugin(t, "messaging-redis"), Config: cfg}, sdk.KindMessaging)
	big := []byte(`{"x":"` + strings.Repeat("a", 200) + `"}`)
	_, err := c.Messaging.Enqueue(context.Background(), &messagingpb.EnqueueRequest{Task: &messagingpb.Task{Tenant: "acme", Command: "c", Payload: big}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "max_payload_bytes 100") {
		t.Fatalf("oversize Enqueue: %v; want InvalidArgument naming max_payload_bytes", err)
	}
	st, err := c.Messaging.Stats(context.Background(), &messagingpb.StatsRequest{Tenant: "acme", Commands: []string{"c"}})
	if err != nil || st.Commands[0].Pending != 0 {
		t.Fatalf("Stats after a refused Enqueue = %v, %v; want nothing stored", st, err)
	}
}
