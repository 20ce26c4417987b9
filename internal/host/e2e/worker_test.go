package e2e

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/testenv"
)

// TestWorkerKeepsConcurrencyAcrossReconnects: a worker with one slot whose messaging
// plugin dies mid-run reconnects its consume stream, and the run still holding the slot
// keeps it: a second task does not start before the first ends.
func TestWorkerKeepsConcurrencyAcrossReconnects(t *testing.T) {
	rs := testenv.StartRedis(t)
	s := newStack(t, redisYAML(rs.URL, "10s"))
	s.start("control", "control")
	w := s.start("w1", "worker", "worker.concurrency=1")
	s.deploy("slow")
	c, ctx := s.client(), context.Background()

	first, err := c.InvokeAsync(ctx, "slow", []byte(`{"ms":8000}`), client.InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, first, "running", 30*time.Second)
	pid := pluginPid(t, w, "messaging-redis")
	_ = syscall.Kill(pid, syscall.SIGKILL)
	deadline := time.Now().Add(10 * time.Second)
	for now := 0; now == 0 || now == pid; now = pluginPidOf(t, w.cmd.Process.Pid, "messaging-redis") {
		if time.Now().After(deadline) {
			t.Fatalf("w1 did not restart its messaging plugin:\n%s", w.tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if a, err := c.GetInvocation(ctx, first); err != nil || a["status"] != "running" {
		t.Fatalf("the first task must still hold the slot when the second is sent: %v %v", a, err)
	}
	second, err := c.InvokeAsync(ctx, "slow", []byte(`{"ms":100}`), client.InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		b, err := c.GetInvocation(ctx, second)
		if err != nil {
			t.Fatal(err)
		}
		if b["status"] == "pending" {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		a, err := c.GetInvocation(ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		if a["status"] == "pending" || a["status"] == "running" {
			t.Fatalf("the second task is %s while the first still holds the only slot (%s)", b["status"], a["status"])
		}
		break
	}
	waitStatus(t, c, first, "succeeded", 30*time.Second)
	waitStatus(t, c, second, "succeeded", 30*time.Second)
}
