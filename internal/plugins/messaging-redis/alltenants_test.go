package main

import (
	"context"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/plugintest"
)

// TestSubscribeAllTenants: a Subscribe without tenant serves every tenant, and each
// delivery says whose task it is so the worker acks under the right tenant.
func TestSubscribeAllTenants(t *testing.T) {
	ctx := context.Background()
	r := testenv.StartRedis(t)
	c := plugintest.Launch(t, plugintest.Target{Path: testenv.Plugin(t, "messaging-redis"), Config: testConfig(r)}, sdk.KindMessaging)
	want := map[string]string{}
	for _, tn := range []string{"acme", "globex", "initech"} {
		res, err := c.Messaging.Enqueue(ctx, sdk.Task{Tenant: tn, Command: "sous.run.py", Payload: []byte(`{}`)})
		if err != nil {
			t.Fatalf("Enqueue for %s: %v", tn, err)
		}
		want[res.ID] = tn
	}
	cons := plugintest.OpenConsumer(t, c.Messaging, "", []string{"sous.run.py"}, 30*time.Second, 3, 30*time.Second)
	for n := len(want); n > 0; n-- {
		d := cons.Next()
		if want[d.Task.ID] != d.Task.Tenant {
			t.Fatalf("delivery %s says tenant %q, want %q", d.Task.ID, d.Task.Tenant, want[d.Task.ID])
		}
		delete(want, d.Task.ID)
		if err := c.Messaging.Ack(ctx, sdk.Lease{Tenant: d.Task.Tenant, TaskID: d.Task.ID, ID: d.Lease.ID}, []byte(`{}`)); err != nil {
			t.Fatalf("Ack: %v", err)
		}
	}
	cons.None(300*time.Millisecond, "all three tenants' tasks were delivered already")
	st, err := c.Messaging.Stats(ctx, "", []string{"sous.run.py"})
	if err != nil || len(st) != 1 || st[0].Pending+st[0].InProgress != 0 {
		t.Fatalf("Stats over all tenants = %v, %v; want nothing left", st, err)
	}
}
