package events

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
)

// countingLog is a shared log that counts its follow reads.
type countingLog struct {
	*Embedded
	follows atomic.Int32
}

func (c *countingLog) Read(ctx context.Context, tenant, id, after string, follow bool, fn func(Event) error) error {
	if follow {
		c.follows.Add(1)
	}
	return c.Embedded.Read(ctx, tenant, id, after, follow, fn)
}

func newTap(t *testing.T) (*Tap, *countingLog) {
	shared := &countingLog{Embedded: NewEmbedded(EmbeddedOptions{})}
	tap := NewTap(shared)
	t.Cleanup(func() { tap.Close(); shared.Close() })
	return tap, shared
}

var (
	evStatus = []byte(`{"type":"status","status":"running","attempt":1}`)
	evResult = []byte(`{"type":"result","output":1}`)
)

// follow reads the run to done in the background.
func follow(t *testing.T, l Log, id, after string) <-chan []Event {
	out := make(chan []Event, 1)
	go func() { out <- collect(t, l, "t1", id, after, true) }()
	return out
}

// sameAsShared fails unless got is the shared log's events after after, ids and all.
func sameAsShared(t *testing.T, shared Log, got []Event, id, after string) {
	t.Helper()
	want := collect(t, shared, "t1", id, after, false)
	if len(got) != len(want) {
		t.Fatalf("follower got %d events, the shared log holds %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].ID != want[i].ID || string(got[i].Envelope) != string(want[i].Envelope) {
			t.Fatalf("event %d: got %s %s, the shared log has %s %s", i, got[i].ID, got[i].Envelope, want[i].ID, want[i].Envelope)
		}
	}
}

// expectAndClaim has a caller follow run id and this host's worker take it; it returns
// what the follower reads and the worker's release.
func expectAndClaim(t *testing.T, tap *Tap, id string) (<-chan []Event, func()) {
	tap.Expect("t1", id)
	got := follow(t, tap, id, "")
	return got, tap.Claim("t1", id)
}

func TestTapClaimedRunSkipsSharedRead(t *testing.T) {
	tap, shared := newTap(t)
	ctx := context.Background()
	got, release := expectAndClaim(t, tap, "a")
	if _, err := tap.Publish(ctx, "t1", "a", evStatus); err != nil {
		t.Fatal(err)
	}
	if _, err := tap.PublishLast(ctx, "t1", "a", time.Minute, evResult, invocation.DoneRaw); err != nil {
		t.Fatal(err)
	}
	release()
	evs := <-got
	sameAsShared(t, shared, evs, "a", "")
	if n := shared.follows.Load(); n != 0 {
		t.Fatalf("a run this host's worker held was read back from the shared log (%d follow reads)", n)
	}
	// A follower that comes after the run ended, and one resuming after an id, are
	// served from what the tap holds.
	sameAsShared(t, shared, <-follow(t, tap, "a", ""), "a", "")
	sameAsShared(t, shared, <-follow(t, tap, "a", evs[0].ID), "a", evs[0].ID)
	if n := shared.follows.Load(); n != 0 {
		t.Fatalf("late followers read the shared log (%d follow reads)", n)
	}
}

func TestTapRunTakenElsewhereIsReadFromSharedLog(t *testing.T) {
	tap, shared := newTap(t)
	tap.Expect("t1", "b")
	got := follow(t, tap, "b", "")
	// Another process's worker runs it: it publishes to the shared log only.
	if _, err := shared.Publish(context.Background(), "t1", "b", evStatus, evResult, invocation.DoneRaw); err != nil {
		t.Fatal(err)
	}
	sameAsShared(t, shared, <-got, "b", "")
	if n := shared.follows.Load(); n != 1 {
		t.Fatalf("want one follow read of the shared log after the grace, got %d", n)
	}
}

func TestTapUnexpectedRunReadsSharedLogAtOnce(t *testing.T) {
	tap, shared := newTap(t)
	release := tap.Claim("t1", "c") // claimed but nobody here follows it: nothing kept
	if _, err := tap.PublishLast(context.Background(), "t1", "c", 0, evResult, invocation.DoneRaw); err != nil {
		t.Fatal(err)
	}
	release()
	tap.mu.Lock()
	_, held := tap.runs[tapKey{"t1", "c"}]
	tap.mu.Unlock()
	if held {
		t.Fatal("a run nobody here expects is held by the tap")
	}
	sameAsShared(t, shared, <-follow(t, tap, "c", ""), "c", "")
	if n := shared.follows.Load(); n != 1 {
		t.Fatalf("an unexpected run: want it read from the shared log, got %d follow reads", n)
	}
}

func TestTapReleasedBeforeDoneGoesOnInSharedLog(t *testing.T) {
	tap, shared := newTap(t)
	ctx := context.Background()
	got, release := expectAndClaim(t, tap, "d")
	if _, err := tap.Publish(ctx, "t1", "d", evStatus); err != nil {
		t.Fatal(err)
	}
	release() // the run was lost here and goes back to the queue
	// The retry runs in another process.
	if _, err := shared.Publish(ctx, "t1", "d", []byte(`{"type":"status","status":"running","attempt":2}`), evResult, invocation.DoneRaw); err != nil {
		t.Fatal(err)
	}
	evs := <-got
	sameAsShared(t, shared, evs, "d", "")
	if len(evs) != 4 || shared.follows.Load() != 1 {
		t.Fatalf("want attempt 1's status then the retry's events, one shared read; got %d events, %d reads", len(evs), shared.follows.Load())
	}
}

func TestTapRunOverItsBoundGoesOnInSharedLog(t *testing.T) {
	tap, shared := newTap(t)
	ctx := context.Background()
	got, release := expectAndClaim(t, tap, "e")
	defer release()
	if _, err := tap.Publish(ctx, "t1", "e", evStatus); err != nil {
		t.Fatal(err)
	}
	big := []byte(`{"type":"chunk","data":"` + strings.Repeat("x", tapRunBytes) + `"}`)
	if _, err := tap.Publish(ctx, "t1", "e", big); err != nil {
		t.Fatal(err)
	}
	if _, err := tap.PublishLast(ctx, "t1", "e", 0, evResult, invocation.DoneRaw); err != nil {
		t.Fatal(err)
	}
	evs := <-got
	sameAsShared(t, shared, evs, "e", "")
	tap.mu.Lock()
	held := tap.bytes
	tap.mu.Unlock()
	if held != 0 || shared.follows.Load() != 1 {
		t.Fatalf("a run over its bound: want nothing held and one shared read, got %d bytes held, %d reads", held, shared.follows.Load())
	}
}

// gatedLog is a shared log whose publishes wait until gate is closed.
type gatedLog struct {
	*Embedded
	gate chan struct{}
}

func (g *gatedLog) Publish(ctx context.Context, tenant, id string, envs ...[]byte) ([]string, error) {
	<-g.gate
	return g.Embedded.Publish(ctx, tenant, id, envs...)
}

// A follower without ids gets a claimed run's last batch while the shared log is still
// appending it; one that needs ids gets it after, with the shared log's ids.
func TestTapLastBatchReachesFollowersWithoutIDsFirst(t *testing.T) {
	shared := &gatedLog{Embedded: NewEmbedded(EmbeddedOptions{}), gate: make(chan struct{})}
	tap := NewTap(shared)
	t.Cleanup(func() { tap.Close(); shared.Close() })
	tap.Expect("t1", "e")
	release := tap.Claim("t1", "e")
	defer release()
	plain := make(chan []Event, 1)
	go func() {
		var got []Event
		err := tap.Read(WithoutIDs(context.Background()), "t1", "e", "", true, func(e Event) error { got = append(got, e); return nil })
		if err != nil {
			t.Errorf("read without ids: %v", err)
		}
		plain <- got
	}()
	withIDs := follow(t, tap, "e", "")
	published := make(chan error, 1)
	go func() {
		_, err := tap.PublishLast(context.Background(), "t1", "e", time.Minute, evStatus, evResult, invocation.DoneRaw)
		published <- err
	}()
	select {
	case got := <-plain:
		if len(got) != 3 || string(got[1].Envelope) != string(evResult) || !invocation.IsDone(got[2].Envelope) || got[2].ID != "" {
			t.Fatalf("the follower without ids got %+v, want status, result and done without ids", got)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the follower without ids waited for the shared log's publish")
	}
	select {
	case got := <-withIDs:
		t.Fatalf("a follower that needs ids got %+v before the shared log gave them", got)
	case <-time.After(50 * time.Millisecond):
	}
	close(shared.gate)
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	sameAsShared(t, shared, <-withIDs, "e", "")
}
