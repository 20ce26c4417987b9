package server

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/redis/go-redis/v9"

	"github.com/sous-run/sous/internal/plugins/messaging-redis/queue"
	"github.com/sous-run/sous/internal/redisconn"
	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
)

const cmd = "sous.run.py"

// rig is a queue on a private Redis and a raw client to watch that Redis.
type rig struct {
	q   *queue.Queue
	raw *redis.Client
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := testenv.StartRedis(t)
	cfg := queue.DefaultConfig()
	cfg.URL = r.URL
	cl, err := cfg.Dial(context.Background(), queue.Section)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	raw := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { _ = raw.Close() })
	return &rig{q: queue.New(cfg, cl), raw: raw}
}

// consumer serves tenant ("" for every tenant).
func (r *rig) consumer(t *testing.T, tenant string) *consumer {
	s := &Server{Plugin: redisconn.NewPlugin[*queue.Queue](sdk.Info{}, queue.Section, hclog.NewNullLogger(), nil)}
	c := newConsumer(r.q, s, sdk.Subscription{Tenant: tenant, Commands: []string{cmd}, WorkerID: "w1"}, time.Minute)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func (r *rig) enqueue(t *testing.T, tenant string) string {
	t.Helper()
	id, _, err := r.q.Enqueue(context.Background(), sdk.Task{Tenant: tenant, Command: cmd, Payload: []byte(`{}`)})
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	return id
}

// calls returns how many times Redis ran each command so far.
func (r *rig) calls(t *testing.T) map[string]int {
	t.Helper()
	info, err := r.raw.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	out := map[string]int{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":calls=")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(strings.SplitN(rest, ",", 2)[0])
		out[name] = n
	}
	return out
}

// parked waits until a client of the queue is blocked in BLPOP.
func (r *rig) parked(t *testing.T) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
		list, err := r.raw.ClientList(context.Background()).Result()
		if err == nil && strings.Contains(list, "cmd=blpop") {
			return
		}
	}
	t.Fatal("no consumer parked in BLPOP within 5 s")
}

func next(t *testing.T, c *consumer, n int) []sdk.Delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ds, err := c.Next(ctx, n)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return ds
}

// A consumer that drained the queue parks at once on the next Next, without claiming
// nothing first, and a task enqueued then costs one claim: no tenant listing, no empty
// claim, one BLPOP per task.
func TestIdleConsumerClaimsOncePerWakeUp(t *testing.T) {
	r := newRig(t)
	c := r.consumer(t, "")
	r.enqueue(t, "acme")
	if ds := next(t, c, 8); len(ds) != 1 {
		t.Fatalf("%d deliveries; want 1", len(ds))
	}
	before := r.calls(t)
	got := make(chan []sdk.Delivery, 1)
	go func() { ds, _ := c.Next(context.Background(), 8); got <- ds }()
	r.parked(t)
	id := r.enqueue(t, "acme")
	if ds := <-got; len(ds) != 1 || ds[0].Task.ID != id {
		t.Fatalf("deliveries %v; want task %s", ds, id)
	}
	after := r.calls(t)
	for name, want := range map[string]int{"evalsha": 2, "smembers": 0, "blpop": 1} { // evalsha: enqueue + claim
		if n := after[name] - before[name]; n != want {
			t.Errorf("%s ran %d times for one task; want %d", name, n, want)
		}
	}
}

// A claim that empties the queue drops its wake-up tokens, so a parked consumer is not
// woken for tasks claimed already; one that leaves tasks keeps them.
func TestDrainingClaimDropsWakeUpTokens(t *testing.T) {
	r := newRig(t)
	for range 3 {
		r.enqueue(t, "acme")
	}
	ready := "sous:acme:q:" + cmd + ":ready"
	ctx := context.Background()
	if _, err := r.q.Claim(ctx, "acme", []string{cmd}, 2, time.Minute, "w1", true); err != nil {
		t.Fatal(err)
	}
	if n := r.raw.LLen(ctx, ready).Val(); n == 0 {
		t.Fatal("a claim that left a task pending dropped the wake-up tokens")
	}
	if _, err := r.q.Claim(ctx, "acme", []string{cmd}, 2, time.Minute, "w1", true); err != nil {
		t.Fatal(err)
	}
	if n := r.raw.LLen(ctx, ready).Val(); n != 0 {
		t.Fatalf("%d wake-up tokens left after the queue was drained; want none", n)
	}
}

// A consumer of every tenant keeps its tenant list between claims, and still serves a
// tenant that enqueued after it listed them.
func TestNewTenantIsServed(t *testing.T) {
	r := newRig(t)
	c := r.consumer(t, "")
	r.enqueue(t, "acme")
	next(t, c, 8)
	globex := r.enqueue(t, "globex")
	r.enqueue(t, "acme")
	seen := map[string]bool{}
	for len(seen) < 2 {
		for _, d := range next(t, c, 8) {
			seen[d.Task.ID] = true
		}
	}
	if !seen[globex] {
		t.Fatalf("the new tenant's task was not delivered: %v", seen)
	}
}
