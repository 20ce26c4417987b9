package stream

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
)

// TestPublishBatchAppendsEachInvocationAlone: one PublishBatch appends every item to
// its own invocation's log, in order and with its own TTL, in one MULTI; an item that
// fails its checks fails alone and the others are stored.
func TestPublishBatchAppendsEachInvocationAlone(t *testing.T) {
	ctx := context.Background()
	r := testenv.StartRedis(t)
	cfg := DefaultConfig()
	cfg.URL = r.URL
	cl, err := cfg.Dial(ctx, Section)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	l := New(cfg, cl)
	before := cl.Cmd.Info(ctx, "commandstats").Val()
	res := l.PublishBatch(ctx, []sdk.PublishItem{
		{Tenant: "acme", InvocationID: "a", TTL: time.Minute, Envelopes: [][]byte{[]byte(`{"n":1}`), []byte(`{"type":"done"}`)}},
		{Tenant: "acme", InvocationID: "b", Envelopes: [][]byte{[]byte(`not json`)}},
		{Tenant: "acme", InvocationID: "c", Envelopes: [][]byte{[]byte(`{"n":3}`)}},
	})
	if len(res) != 3 || res[0].Err != nil || len(res[0].IDs) != 2 || res[2].Err != nil || len(res[2].IDs) != 1 {
		t.Fatalf("results %+v; want a and c stored", res)
	}
	if !errors.Is(res[1].Err, ErrInvalid) {
		t.Fatalf("b: %v; want ErrInvalid alone", res[1].Err)
	}
	if n := execs(t, cl.Cmd.Info(ctx, "commandstats").Val()) - execs(t, before); n != 1 {
		t.Fatalf("%d MULTI/EXEC for the batch; want one", n)
	}
	for _, c := range []struct {
		id   string
		want []string
		ttl  time.Duration
	}{{"a", []string{`{"n":1}`, `{"type":"done"}`}, time.Minute}, {"c", []string{`{"n":3}`}, cfg.TTL.D()}} {
		var got []string
		if err := l.Read(ctx, "acme", c.id, "", false, func(e Event) error { got = append(got, string(e.Envelope)); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, c.want) {
			t.Fatalf("log %s holds %v; want %v", c.id, got, c.want)
		}
		key, _ := l.Key("acme", c.id)
		if ttl := cl.Cmd.PTTL(ctx, key).Val(); ttl > c.ttl || ttl < c.ttl-10*time.Second {
			t.Fatalf("log %s TTL %v; want %v", c.id, ttl, c.ttl)
		}
	}
	if n := cl.Cmd.Exists(ctx, "sous:acme:inv:b:events").Val(); n != 0 {
		t.Fatal("the refused item's log exists")
	}
}

// execs is the number of EXEC calls an INFO commandstats reply counts.
func execs(t *testing.T, info string) int {
	t.Helper()
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_exec:calls="); ok {
			n, err := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	return 0
}
