package stream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sous-run/sous/internal/testenv"
)

// openLog is a Log on a private redis-server reached as url (the server's own when "").
func openLog(t *testing.T, r *testenv.Redis, url string) (*Log, *redis.Client) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.URL = cmpOr(url, r.URL)
	cl, err := cfg.Dial(context.Background(), Section)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	admin := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { _ = admin.Close() })
	return New(cfg, cl), admin
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// readAll is every event of an invocation's log, as stored now.
func readAll(t *testing.T, l *Log, id string) []Event {
	t.Helper()
	var got []Event
	if err := l.Read(context.Background(), "acme", id, "", false, func(e Event) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return got
}

// memory is what Redis says key takes.
func memory(t *testing.T, admin *redis.Client, key string) int64 {
	t.Helper()
	n, err := admin.MemoryUsage(context.Background(), key).Result()
	if err != nil {
		t.Fatalf("MEMORY USAGE %s: %v", key, err)
	}
	return n
}

var (
	status = []byte(`{"type":"status","status":"running","attempt":1,"worker":"w1","ts":1796435369120}`)
	result = []byte(`{"type":"result","output":{"ping":1},"duration_ms":0}`)
	done   = []byte(`{"type":"done"}`)
)

// TestDoneCompactsTheLog: the publish that ends a log with done rewrites it at its size
// (Redis gave the stream a 4 KiB first node), keeping every entry, its id, the TTL the
// publish gave, and the last id: a later XADD still gets a greater one.
func TestDoneCompactsTheLog(t *testing.T) {
	ctx := context.Background()
	r := testenv.StartRedis(t)
	l, admin := openLog(t, r, "")
	if _, err := l.Publish(ctx, "acme", "i1", 0, [][]byte{status}); err != nil {
		t.Fatal(err)
	}
	key, _ := l.Key("acme", "i1")
	open := memory(t, admin, key)
	ids, err := l.Publish(ctx, "acme", "i1", 2*time.Minute, [][]byte{result, done})
	if err != nil {
		t.Fatal(err)
	}
	closed := memory(t, admin, key)
	t.Logf("log of 3 events: %d bytes open, %d once done", open, closed)
	if closed > 1500 || closed*3 > open {
		t.Fatalf("done log takes %d bytes (%d before done); want it rewritten under 1500", closed, open)
	}
	got := readAll(t, l, "i1")
	if len(got) != 3 || got[1].ID != ids[0] || got[2].ID != ids[1] || !got[2].Done || string(got[0].Envelope) != string(status) {
		t.Fatalf("log after compaction %+v; want status, result %s, done %s", got, ids[0], ids[1])
	}
	if ttl := admin.PTTL(ctx, key).Val(); ttl > 2*time.Minute || ttl < time.Minute {
		t.Fatalf("TTL after compaction %v; want the publish's 2m", ttl)
	}
	late, err := admin.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []any{field, `{"n":1}`}}).Result()
	if err != nil || compareIDs(late, ids[1]) <= 0 {
		t.Fatalf("XADD after compaction: %q, %v; want an id after %s", late, err, ids[1])
	}
}

// TestReaderFollowingTheLogGetsDone: a reader blocked on the log when the last publish
// rewrites it still gets the last events, with their ids.
func TestReaderFollowingTheLogGetsDone(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := testenv.StartRedis(t)
	l, _ := openLog(t, r, "")
	first, err := l.Publish(ctx, "acme", "i2", 0, [][]byte{status})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan Event, 8)
	read := make(chan error, 1)
	go func() {
		read <- l.Read(ctx, "acme", "i2", first[0], true, func(e Event) error { got <- e; return nil })
	}()
	time.Sleep(300 * time.Millisecond) // the reader is in XREAD BLOCK by now
	ids, err := l.Publish(ctx, "acme", "i2", time.Minute, [][]byte{result, done})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-read; err != nil {
		t.Fatalf("Read: %v", err)
	}
	close(got)
	var seen []string
	for e := range got {
		seen = append(seen, e.ID)
	}
	if !slices.Equal(seen, ids) {
		t.Fatalf("the follower got %v; want %v", seen, ids)
	}
}

// TestCompactionRefusedLeavesThePublish: on a Redis that refuses the rewrite, the
// publish still stores every event with its TTL, and the log keeps its size: a user
// without DUMP and RESTORE (the script fails inside the MULTI), and one without EVAL
// (Redis discards the whole MULTI: the publish goes again without the rewrite).
func TestCompactionRefusedLeavesThePublish(t *testing.T) {
	for _, denied := range [][]string{{"-dump", "-restore"}, {"-eval"}} {
		t.Run(strings.Join(denied, ""), func(t *testing.T) {
			ctx := context.Background()
			r := testenv.StartRedis(t)
			admin := redis.NewClient(&redis.Options{Addr: r.Addr})
			defer admin.Close()
			acl := append([]any{"ACL", "SETUSER", "events", "on", ">pw", "~*", "+@all"}, anys(denied)...)
			if err := admin.Do(ctx, acl...).Err(); err != nil {
				t.Fatal(err)
			}
			l, _ := openLog(t, r, fmt.Sprintf("redis://events:pw@%s/0", r.Addr))
			for i := range 2 { // the second publish goes while compaction is paused
				id := fmt.Sprintf("i%d", i)
				start := time.Now()
				ids, err := l.Publish(ctx, "acme", id, time.Minute, [][]byte{status, result, done})
				if err != nil || len(ids) != 3 || time.Since(start) > 5*time.Second {
					t.Fatalf("publish %d with compaction refused: %v, %v after %s", i, ids, err, time.Since(start))
				}
				key, _ := l.Key("acme", id)
				if n := len(readAll(t, l, id)); n != 3 {
					t.Fatalf("log %s holds %d events; want 3", id, n)
				}
				if ttl := admin.PTTL(ctx, key).Val(); ttl < 50*time.Second {
					t.Fatalf("log %s TTL %v; want 1m", id, ttl)
				}
				if n := memory(t, admin, key); n < 4096 {
					t.Fatalf("log %s takes %d bytes: rewritten against the ACL", id, n)
				}
			}
		})
	}
}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// TestLargeLogIsLeft: a log over compactMaxBytes is not rewritten (its first node is
// the only one oversized).
func TestLargeLogIsLeft(t *testing.T) {
	ctx := context.Background()
	r := testenv.StartRedis(t)
	l, admin := openLog(t, r, "")
	chunk := []byte(`{"type":"chunk","seq":1,"data":"` + strings.Repeat("x", 2000) + `"}`)
	envs := slices.Repeat([][]byte{chunk}, 12)
	if _, err := l.Publish(ctx, "acme", "big", 0, envs); err != nil {
		t.Fatal(err)
	}
	key, _ := l.Key("acme", "big")
	n, err := compactScript.Run(ctx, admin, []string{key}, 60000, compactMaxBytes).Int()
	if err != nil || n != 0 {
		t.Fatalf("compaction of a %d-byte log: %d, %v; want it left (0)", memory(t, admin, key), n, err)
	}
	small := "small"
	if _, err := l.Publish(ctx, "acme", small, 0, [][]byte{status}); err != nil {
		t.Fatal(err)
	}
	key, _ = l.Key("acme", small)
	if n, err := compactScript.Run(ctx, admin, []string{key}, 60000, compactMaxBytes).Int(); err != nil || n != 1 {
		t.Fatalf("compaction of a small log: %d, %v; want it rewritten (1)", n, err)
	}
}

// TestPublishErrLeavesOutTheCompaction: a MULTI whose only failed command is a
// compaction published; one with a failed XADD did not; one that failed without any
// command's error keeps the MULTI's error.
func TestPublishErrLeavesOutTheCompaction(t *testing.T) {
	ctx := context.Background()
	multi := errors.New("EXECABORT")
	xadd, compact := redis.NewStringCmd(ctx, "xadd"), redis.NewCmd(ctx, "eval")
	cmds := []redis.Cmder{xadd, compact}
	compact.SetErr(redis.Nil)
	if err := publishErr(multi, cmds, []*redis.Cmd{compact}); err != nil {
		t.Fatalf("only the compaction failed: %v; want nil", err)
	}
	xadd.SetErr(errors.New("OOM"))
	if err := publishErr(multi, cmds, []*redis.Cmd{compact}); err == nil || err.Error() != "OOM" {
		t.Fatalf("the XADD failed: %v; want its error", err)
	}
	ok := []redis.Cmder{redis.NewStringCmd(ctx, "xadd"), redis.NewCmd(ctx, "eval")}
	if err := publishErr(multi, ok, nil); err != multi {
		t.Fatalf("no command failed: %v; want the MULTI's error", err)
	}
}
