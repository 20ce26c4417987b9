package queue

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
)

func testQueue(t *testing.T) *Queue {
	t.Helper()
	r := testenv.StartRedis(t)
	cfg := DefaultConfig()
	cfg.URL = r.URL
	cl, err := cfg.Dial(context.Background(), Section)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return New(cfg, cl)
}

// claimOne enqueues a task of cmd and leases it.
func claimOne(t *testing.T, q *Queue, cmd string) sdk.Delivery {
	t.Helper()
	ctx := context.Background()
	if _, _, err := q.Enqueue(ctx, sdk.Task{Tenant: "acme", Command: cmd, Payload: []byte(`{}`)}); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	cl, err := q.Claim(ctx, "acme", []string{cmd}, 1, time.Minute, "w1", true)
	if err != nil || len(cl.Tasks) != 1 {
		t.Fatalf("claim = %v, %v; want one lease", cl.Tasks, err)
	}
	return cl.Tasks[0]
}

func leasedCount(t *testing.T, q *Queue, cmd string) int64 {
	t.Helper()
	n, err := q.cl.Cmd.ZCard(context.Background(), q.keys("acme").leased(cmd)).Result()
	if err != nil {
		t.Fatalf("zcard: %v", err)
	}
	return n
}

// TestLeaseWithoutCommandStillAcks: a lease id issued before lease ids carried the
// command (or a lease of that shape) is resolved by reading the task's command, so the
// Ack still removes the task from its command's leased queue.
func TestLeaseWithoutCommandStillAcks(t *testing.T) {
	ctx := context.Background()
	q := testQueue(t)
	l := claimOne(t, q, "sous.run.py")
	if !strings.HasPrefix(l.Lease.ID, "sous.run.py/") {
		t.Fatalf("lease id %q does not name its command", l.Lease.ID)
	}
	old := strings.TrimPrefix(l.Lease.ID, "sous.run.py/")
	if err := q.cl.Cmd.HSet(ctx, q.keys("acme").task(l.Task.ID), "lease", old).Err(); err != nil {
		t.Fatalf("hset: %v", err)
	}
	if err := q.Ack(ctx, "acme", l.Task.ID, old, []byte(`{"ok":true}`)); err != nil {
		t.Fatalf("Ack with a lease id without command: %v", err)
	}
	if n := leasedCount(t, q, "sous.run.py"); n != 0 {
		t.Fatalf("leased queue holds %d tasks after Ack, want 0", n)
	}
	res, err := q.Get(ctx, "acme", l.Task.ID)
	if err != nil || res.Status != "completed" {
		t.Fatalf("Get = %v, %v; want completed", res, err)
	}
}

// TestLeaseNamingAnotherCommandIsStale: a lease id whose command is not the task's is
// refused for every verb, and the task keeps its lease.
func TestLeaseNamingAnotherCommandIsStale(t *testing.T) {
	ctx := context.Background()
	q := testQueue(t)
	l := claimOne(t, q, "sous.run.py")
	forged := "sous.run.js/" + strings.TrimPrefix(l.Lease.ID, "sous.run.py/")
	checks := map[string]error{
		"ack": q.Ack(ctx, "acme", l.Task.ID, forged, []byte(`{}`)),
	}
	_, checks["fail"] = q.Fail(ctx, "acme", l.Task.ID, forged, "boom", false)
	_, checks["nack"] = q.Nack(ctx, "acme", l.Task.ID, forged, "later", 0)
	_, checks["extend"] = q.Extend(ctx, "acme", l.Task.ID, forged, time.Minute)
	for verb, err := range checks {
		if !errors.Is(err, ErrStale) {
			t.Errorf("%s with a lease naming another command: %v, want ErrStale", verb, err)
		}
	}
	if n := leasedCount(t, q, "sous.run.py"); n != 1 {
		t.Fatalf("leased queue holds %d tasks, want the task still leased", n)
	}
	if err := q.Ack(ctx, "acme", l.Task.ID, l.Lease.ID, []byte(`{}`)); err != nil {
		t.Fatalf("Ack with the real lease: %v", err)
	}
}
