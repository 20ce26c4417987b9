package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sous-run/sous/internal/latency"
	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/plugintest"
)

// BenchmarkPublishRead measures publish -> a following reader receives the event,
// through the plugin, against a floor measured in the same run: raw go-redis XADD ->
// a goroutine blocked in XREAD BLOCK on the same redis-server.
func BenchmarkPublishRead(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // ends the raw reader goroutine and the plugin Read stream
	r := testenv.StartRedis(b)
	c := plugintest.Launch(b, plugintest.Target{Path: testenv.Plugin(b, "events-redisstream"), Config: fmt.Sprintf(`{"url":%q}`, r.URL)}, sdk.KindEvents)
	raw := redis.NewClient(&redis.Options{Addr: r.Addr})
	b.Cleanup(func() { _ = raw.Close() })
	ev := []byte(`{"type":"chunk","data":"x","seq":1}`)

	floor := &latency.Recorder{}
	key := fmt.Sprintf("bench:raw:%d", time.Now().UnixNano())
	got := make(chan struct{})
	go func() {
		last := "0"
		for {
			res, err := raw.XRead(ctx, &redis.XReadArgs{Streams: []string{key, last}, Block: time.Second}).Result()
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				continue
			}
			for _, m := range res[0].Messages {
				last = m.ID
				got <- struct{}{}
			}
		}
	}()
	floor.Start()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := raw.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []any{"e", ev}}).Err(); err != nil {
			b.Fatalf("XADD: %v", err)
		}
		<-got
		floor.Add(time.Since(t0))
	}
	floor.Stop()

	plug := &latency.Recorder{}
	inv := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	rd := plugintest.Follow(ctx, c.Events, "bench", inv, "")
	plug.Start()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := c.Events.Publish(ctx, "bench", inv, ev); err != nil {
			b.Fatalf("Publish: %v", err)
		}
		if _, ok := <-rd.C; !ok {
			b.Fatalf("Read ended: %v", rd.Err())
		}
		plug.Add(time.Since(t0))
	}
	plug.Stop()
	floor.Report(b, "raw")
	plug.Report(b, "plugin")
	latency.Compare(b, plug, floor)
}
