package driver_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/latency"
	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/plugintest"
)

// BenchmarkCreateClaimComplete measures Enqueue → delivery → Ack through the plugin
// against its embedded broker, with 1 and 64 tasks in flight, next to the floor (one raw
// gRPC round trip to the same plugin process, Base.Health, at the same concurrency) and
// to the same round trip through messaging-redis on a private redis-server.
//
//	go test -run '^$' -bench CreateClaimComplete ./internal/plugins/messaging-codeq/driver/
func BenchmarkCreateClaimComplete(b *testing.B) {
	c := launch(b, embedded(freeAddrs(b), nil))
	rs := testenv.StartRedis(b)
	rc := plugintest.Launch(b, plugintest.Target{Path: testenv.Plugin(b, "messaging-redis"),
		Config: fmt.Sprintf(`{"url":%q,"prefix":"bench"}`, rs.URL)}, sdk.KindMessaging)
	var seq atomic.Int64
	for _, inflight := range []int{1, 64} {
		b.Run(fmt.Sprintf("floor/inflight=%d", inflight), func(b *testing.B) {
			run(b, inflight, func(context.Context) error {
				_, err := c.Health(context.Background())
				return err
			})
		})
		for _, d := range []struct {
			name string
			conn *plugintest.Plugin
		}{{"codeq", c}, {"redis", rc}} {
			b.Run(fmt.Sprintf("%s/inflight=%d", d.name, inflight), func(b *testing.B) {
				p := newPipeline(b, d.conn, inflight)
				run(b, inflight, func(ctx context.Context) error {
					return p.roundTrip(ctx, fmt.Sprintf("bench-%d", seq.Add(1)))
				})
			})
		}
	}
}

// run calls op b.N times from inflight goroutines and reports p50/p99 and throughput.
func run(b *testing.B, inflight int, op func(context.Context) error) {
	var rec latency.Recorder
	var next atomic.Int64
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b.ResetTimer()
	rec.Start()
	for range inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				if err := op(ctx); err != nil {
					b.Error(err)
					return
				}
				rec.Add(time.Since(t0))
			}
		}()
	}
	wg.Wait()
	rec.Stop()
	b.StopTimer()
	rec.Report(b, "op")
}

// pipeline is one consumer that acks every delivery and signals the task's waiter.
type pipeline struct {
	c *plugintest.Plugin
	acks
}

func newPipeline(b *testing.B, c *plugintest.Plugin, inflight int) *pipeline {
	p := &pipeline{c: c, acks: acks{waits: map[string]chan error{}}}
	k := consume(b, c, 30)
	k.Credit(inflight)
	for range inflight {
		go func() {
			for d := range k.Deliveries() {
				err := c.Messaging.Ack(context.Background(), sdk.Lease{Tenant: "acme", TaskID: d.Task.ID, ID: d.Lease.ID}, []byte(`{"ok":true}`))
				k.Credit(1)
				p.acked(d.Task.ID, err)
			}
		}()
	}
	return p
}

// roundTrip enqueues task id and waits until its Ack returned.
func (p *pipeline) roundTrip(ctx context.Context, id string) error {
	return p.await(ctx, id, func() error {
		_, err := p.c.Messaging.Enqueue(ctx, sdk.Task{ID: id, Tenant: "acme", Command: cmd, Payload: []byte(`{}`)})
		return err
	})
}

// acks hands each task's Ack outcome to the round trip waiting for it.
type acks struct {
	mu    sync.Mutex
	waits map[string]chan error
}

// await registers a waiter for id, runs enqueue, and waits for id's Ack outcome.
func (a *acks) await(ctx context.Context, id string, enqueue func() error) error {
	ch := make(chan error, 1)
	a.mu.Lock()
	a.waits[id] = ch
	a.mu.Unlock()
	if err := enqueue(); err != nil {
		return err
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// acked passes id's Ack outcome to its waiter, if one is waiting.
func (a *acks) acked(id string, err error) {
	a.mu.Lock()
	ch := a.waits[id]
	delete(a.waits, id)
	a.mu.Unlock()
	if ch != nil {
		ch <- err
	}
}
