package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sous-run/sous/internal/redisconn/conftest"
	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/plugintest"
)

// TestConformance runs the generic events suite against the real plugin binary and a
// private redis-server.
func TestConformance(t *testing.T) {
	r := testenv.StartRedis(t)
	plugintest.Events(t, plugintest.Target{Path: testenv.Plugin(t, "events-redisstream"), Config: fmt.Sprintf(`{"url":%q}`, r.URL)})
}

func TestConfigErrors(t *testing.T) {
	conftest.Run(t, testenv.Plugin(t, "events-redisstream"), sdk.KindEvents)
}

func TestOversizeEnvelopeRefused(t *testing.T) {
	r := testenv.StartRedis(t)
	cfg := fmt.Sprintf(`{"url":%q,"max_envelope_bytes":64}`, r.URL)
	c := plugintest.Launch(t, plugintest.Target{Path: testenv.Plugin(t, "events-redisstream"), Config: cfg}, sdk.KindEvents)
	big := []byte(`{"type":"chunk","data":"` + strings.Repeat("a", 100) + `","seq":1}`)
	_, err := c.Events.Publish(context.Background(), "acme", "i1", big)
	if !errors.Is(err, sdk.ErrInvalid) || !strings.Contains(err.Error(), "max_envelope_bytes 64") {
		t.Fatalf("oversize Publish: %v; want InvalidArgument naming max_envelope_bytes", err)
	}
}

// TestReaderSurvivesRedisRestart keeps a Read following across a Redis restart: the
// reader retries with backoff, Health reports the outage, and events published after
// the restart still reach the reader.
func TestReaderSurvivesRedisRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := testenv.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	c := plugintest.Launch(t, plugintest.Target{Path: testenv.Plugin(t, "events-redisstream"), Config: fmt.Sprintf(`{"url":%q}`, r.URL)}, sdk.KindEvents)
	pub := func(e string) string {
		t.Helper()
		ids, err := c.Events.Publish(ctx, "acme", "inv1", []byte(e))
		if err != nil {
			t.Fatalf("Publish %s: %v", e, err)
		}
		return ids[0]
	}
	first := pub(`{"type":"chunk","data":1,"seq":1}`)
	st := plugintest.Follow(ctx, c.Events, "acme", "inv1", "")
	if ev, ok := <-st.C; !ok || ev.ID != first {
		t.Fatalf("first event %v, %v", ev, st.Err())
	}
	t0 := time.Now()
	r.Kill()
	for {
		h, err := c.Health(ctx)
		if err != nil {
			t.Fatalf("Health: %v", err)
		}
		if !h.Healthy {
			if !strings.Contains(h.Reason, "unreachable") {
				t.Fatalf("unhealthy reason %q does not say redis is unreachable", h.Reason)
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("unhealthy seen %s", time.Since(t0))
	r.Start()
	t.Logf("restarted %s", time.Since(t0))
	var second string
	for second == "" {
		ids, err := c.Events.Publish(ctx, "acme", "inv1", []byte(`{"type":"done"}`))
		if err == nil {
			second = ids[0]
		} else if !errors.Is(err, sdk.ErrUnavailable) {
			t.Fatalf("Publish after restart: %v", err)
		}
	}
	t.Logf("published done %s", time.Since(t0))
	ev, ok := <-st.C
	if !ok || ev.ID != second {
		t.Fatalf("after the restart the reader got %v, %v; want the done event %s", ev, st.Err(), second)
	}
	if _, ok := <-st.C; ok || st.Err() != nil {
		t.Fatalf("Read did not end after done: more=%v, %v", ok, st.Err())
	}
}

// TestParkedReadersDoNotStarveWriters parks more following readers than the writers'
// pool has connections; Publish still goes through and every reader gets its own
// invocation's events, because blocking reads have their own pool.
func TestParkedReadersDoNotStarveWriters(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := testenv.StartRedis(t)
	cfg := fmt.Sprintf(`{"url":%q,"pool_size":2,"blocking_pool_size":64,"read_timeout":"1s"}`, r.URL)
	c := plugintest.Launch(t, plugintest.Target{Path: testenv.Plugin(t, "events-redisstream"), Config: cfg}, sdk.KindEvents)
	const readers = 40
	streams := make([]*plugintest.Stream, readers)
	for i := range streams {
		streams[i] = plugintest.Follow(ctx, c.Events, "acme", fmt.Sprintf("inv-%d", i), "")
	}
	time.Sleep(300 * time.Millisecond) // let every reader park in XREAD BLOCK
	ids := make([]string, readers)
	for i := range streams {
		res, err := c.Events.Publish(ctx, "acme", fmt.Sprintf("inv-%d", i),
			[]byte(fmt.Sprintf(`{"type":"chunk","data":%d,"seq":1}`, i)), []byte(`{"type":"done"}`))
		if err != nil {
			t.Fatalf("Publish to inv-%d with %d readers parked: %v", i, readers, err)
		}
		ids[i] = res[0]
	}
	for i, st := range streams {
		ev, ok := <-st.C
		if !ok || ev.ID != ids[i] || string(ev.Envelope) != fmt.Sprintf(`{"type":"chunk","data":%d,"seq":1}`, i) {
			t.Fatalf("reader %d got %v, %v; want its own chunk %s", i, ev, st.Err(), ids[i])
		}
	}
}

// TestPublishLastSetsTheTTL: the last envelopes and the log's TTL go in one Publish,
// where a plain Publish leaves the configured ttl.
func TestPublishLastSetsTheTTL(t *testing.T) {
	ctx := context.Background()
	r := testenv.StartRedis(t)
	c := plugintest.Launch(t, plugintest.Target{Path: testenv.Plugin(t, "events-redisstream"), Config: fmt.Sprintf(`{"url":%q,"ttl":"5m"}`, r.URL)}, sdk.KindEvents)
	raw := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer raw.Close()
	key := "sous:acme:inv:inv1:events"
	if _, err := c.Events.Publish(ctx, "acme", "inv1", []byte(`{"type":"status","status":"running"}`)); err != nil {
		t.Fatal(err)
	}
	if ttl := raw.PTTL(ctx, key).Val(); ttl <= 4*time.Minute {
		t.Fatalf("TTL after Publish %v; want the configured 5m", ttl)
	}
	ids, err := sdk.PublishLast(ctx, c.Events, "acme", "inv1", 90*time.Second, []byte(`{"type":"result","output":1}`), []byte(`{"type":"done"}`))
	if err != nil || len(ids) != 2 {
		t.Fatalf("PublishLast = %v, %v", ids, err)
	}
	if ttl := raw.PTTL(ctx, key).Val(); ttl <= time.Minute || ttl > 90*time.Second {
		t.Fatalf("TTL after PublishLast %v; want 90s", ttl)
	}
}
