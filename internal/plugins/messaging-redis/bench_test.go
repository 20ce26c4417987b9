package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sous-run/sous/internal/latency"
	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/plugintest"
)

// BenchmarkRoundTrip measures enqueue -> consume -> ack through the plugin process at
// 1 and 16 tasks in flight, against a floor measured in the same run: a raw go-redis
// LPUSH -> BRPOP round trip on the same redis-server at the same concurrency.
func BenchmarkRoundTrip(b *testing.B) {
	r := testenv.StartRedis(b)
	c := plugintest.Launch(b, plugintest.Target{Path: testenv.Plugin(b, "messaging-redis"), Config: testConfig(r)}, sdk.KindMessaging)
	raw := redis.NewClient(&redis.Options{Addr: r.Addr, PoolSize: 64})
	b.Cleanup(func() { _ = raw.Close() })
	for _, inflight := range []int{1, 16} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) {
			floor := rawRoundTrips(b, raw, inflight, b.N)
			plug := pluginRoundTrips(b, c.Messaging, inflight, b.N)
			floor.Report(b, "raw")
			plug.Report(b, "plugin")
			latency.Compare(b, plug, floor)
		})
	}
}

// rawRoundTrips pushes n stamps with LPUSH, at most inflight outstanding, and pops
// them with inflight BRPOP loops.
func rawRoundTrips(b *testing.B, cl *redis.Client, inflight, n int) *latency.Recorder {
	ctx := context.Background()
	key := "bench:raw:" + strconv.FormatInt(time.Now().UnixNano(), 36) // old workers may still be blocked on an earlier key
	rec := &latency.Recorder{}
	sem := make(chan struct{}, inflight)
	var wg sync.WaitGroup
	wg.Add(n)
	stop := make(chan struct{})
	for w := 0; w < inflight; w++ {
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				v, err := cl.BRPop(ctx, time.Second, key).Result()
				if err != nil {
					continue
				}
				ns, _ := strconv.ParseInt(v[1], 10, 64)
				rec.Add(time.Since(time.Unix(0, ns)))
				<-sem
				wg.Done()
			}
		}()
	}
	rec.Start()
	latency.Drive(n, inflight, sem, func() {
		if err := cl.LPush(ctx, key, time.Now().UnixNano()).Err(); err != nil {
			b.Errorf("LPUSH: %v", err)
		}
	})
	wg.Wait()
	rec.Stop()
	close(stop)
	return rec
}

// pluginRoundTrips enqueues n tasks through the plugin, at most inflight outstanding,
// consumes them on one stream with inflight credits and acks each; the latency is
// enqueue start to ack done.
func pluginRoundTrips(b *testing.B, m sdk.Messaging, inflight, n int) *latency.Recorder {
	ctx := context.Background()
	tenant, cmd := "bench", "bench.rt."+strconv.Itoa(inflight)+"."+strconv.FormatInt(time.Now().UnixNano(), 36)
	cons := plugintest.OpenConsumer(b, m, tenant, []string{cmd}, 30*time.Second, inflight, time.Minute)
	defer cons.Close()
	rec := &latency.Recorder{}
	sem := make(chan struct{}, inflight)
	var wg sync.WaitGroup
	wg.Add(n)
	go func() {
		for i := 0; i < n; i++ {
			d := cons.Next()
			go func() {
				err := m.Ack(ctx, sdk.Lease{Tenant: tenant, TaskID: d.Task.ID, ID: d.Lease.ID}, []byte(`{}`))
				if err != nil {
					b.Errorf("Ack: %v", err)
				}
				ns, _ := strconv.ParseInt(string(d.Task.Payload), 10, 64)
				rec.Add(time.Since(time.Unix(0, ns)))
				<-sem
				cons.Credit(1)
				wg.Done()
			}()
		}
	}()
	rec.Start()
	latency.Drive(n, inflight, sem, func() {
		p := []byte(strconv.FormatInt(time.Now().UnixNano(), 10))
		if _, err := m.Enqueue(ctx, sdk.Task{Tenant: tenant, Command: cmd, Payload: p}); err != nil {
			b.Errorf("Enqueue: %v", err)
		}
	})
	wg.Wait()
	rec.Stop()
	return rec
}
