package sdk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeSends records what a batcher sends: lone items through one, groups through
// many. one blocks while hold is set, so a test can queue calls behind it.
type fakeSends struct {
	mu      sync.Mutex
	singles []int
	groups  [][]int
	hold    chan struct{} // one waits for it to close when set
	entered chan struct{} // one says it started
	manyErr error         // the whole group call's error
}

func (f *fakeSends) one(ctx context.Context, in int) (string, error) {
	f.mu.Lock()
	f.singles = append(f.singles, in)
	hold := f.hold
	f.mu.Unlock()
	if f.entered != nil {
		f.entered <- struct{}{}
	}
	if hold != nil {
		<-hold
	}
	return fmt.Sprint("one ", in), nil
}

func (f *fakeSends) many(ctx context.Context, ins []int) ([]string, []error, error) {
	f.mu.Lock()
	f.groups = append(f.groups, slices.Clone(ins))
	err := f.manyErr
	f.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	outs, errs := make([]string, len(ins)), make([]error, len(ins))
	for i, in := range ins {
		outs[i] = fmt.Sprint("many ", in)
		if in < 0 {
			errs[i] = Errorf(ErrInvalid, "item %d is negative", in)
		}
	}
	return outs, errs, nil
}

// queued waits until n calls wait in b's queue.
func queued(t *testing.T, b *batcher[int, string], n int) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		b.mu.Lock()
		got := len(b.queue)
		b.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%d calls queued; want %d", got, n)
		}
	}
}

type result struct {
	in  int
	out string
	err error
}

// behindOne sends first alone, holds it, sends rest while it is on its way, then
// lets it go and returns every result.
func behindOne(t *testing.T, f *fakeSends, b *batcher[int, string], first int, rest ...int) []result {
	t.Helper()
	f.hold, f.entered = make(chan struct{}), make(chan struct{}, 1)
	res := make(chan result, 1+len(rest))
	send := func(in int) {
		out, err := b.do(context.Background(), in)
		res <- result{in, out, err}
	}
	go send(first)
	<-f.entered
	f.entered = nil
	for _, in := range rest {
		go send(in)
	}
	queued(t, b, len(rest))
	close(f.hold)
	var all []result
	for range 1 + len(rest) {
		all = append(all, <-res)
	}
	slices.SortFunc(all, func(a, b result) int { return a.in - b.in })
	return all
}

// TestBatcherSendsALoneCallAlone: with nothing on its way a call goes at once, by
// itself: a single caller's latency is what it was.
func TestBatcherSendsALoneCallAlone(t *testing.T) {
	f := &fakeSends{}
	b := &batcher[int, string]{one: f.one, many: f.many}
	for i := range 3 {
		if out, err := b.do(context.Background(), i); err != nil || out != fmt.Sprint("one ", i) {
			t.Fatalf("do(%d) = %q, %v", i, out, err)
		}
	}
	if !slices.Equal(f.singles, []int{0, 1, 2}) || len(f.groups) != 0 {
		t.Fatalf("singles %v, groups %v; want three lone calls", f.singles, f.groups)
	}
}

// TestBatcherGroupsTheCallsQueuedBehindOne: the calls made while one is on its way
// leave together as one group when it returns, and each gets its own result.
func TestBatcherGroupsTheCallsQueuedBehindOne(t *testing.T) {
	f := &fakeSends{}
	b := &batcher[int, string]{one: f.one, many: f.many}
	got := behindOne(t, f, b, 1, 2, 3, -4)
	if len(f.groups) != 1 || len(f.groups[0]) != 3 {
		t.Fatalf("groups %v; want the three queued calls in one", f.groups)
	}
	want := map[int]string{1: "one 1", 2: "many 2", 3: "many 3"}
	for _, r := range got {
		if r.in < 0 {
			if !errors.Is(r.err, ErrInvalid) {
				t.Fatalf("item %d: err %v; want its own ErrInvalid", r.in, r.err)
			}
			continue
		}
		if r.err != nil || r.out != want[r.in] {
			t.Fatalf("item %d = %q, %v; want %q", r.in, r.out, r.err, want[r.in])
		}
	}
	idle(t, b) // the group's sender hands on (nothing) just after its callers return
}

// idle waits until b has nothing on its way and nothing queued.
func idle(t *testing.T, b *batcher[int, string]) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		b.mu.Lock()
		busy, n := b.busy, len(b.queue)
		b.mu.Unlock()
		if !busy && n == 0 {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("busy %v, queue %d after every call returned; want idle", busy, n)
		}
	}
}

// TestBatcherFallsBackForAPluginWithoutBatches: a plugin that refuses the group call
// (built before it) gets the group's calls one by one, and every later call alone.
func TestBatcherFallsBackForAPluginWithoutBatches(t *testing.T) {
	f := &fakeSends{manyErr: Errorf(ErrUnsupported, "calls: a call of a kind this plugin does not know")}
	b := &batcher[int, string]{one: f.one, many: f.many}
	for _, r := range behindOne(t, f, b, 1, 2, 3) {
		if r.err != nil || r.out != fmt.Sprint("one ", r.in) {
			t.Fatalf("item %d = %q, %v; want it sent alone", r.in, r.out, r.err)
		}
	}
	f.hold = nil
	if _, err := b.do(context.Background(), 9); err != nil {
		t.Fatal(err)
	}
	if len(f.groups) != 1 || !slices.Equal(f.singles, []int{1, 2, 3, 9}) && !slices.Equal(f.singles, []int{1, 3, 2, 9}) {
		t.Fatalf("groups %v, singles %v; want one refused group, then every call alone", f.groups, f.singles)
	}
}

// TestBatcherGivesAFailedGroupsErrorToEachCall: a group call that fails as a whole
// (the plane broke) fails each of its calls with that error.
func TestBatcherGivesAFailedGroupsErrorToEachCall(t *testing.T) {
	f := &fakeSends{manyErr: Errorf(ErrUnavailable, "the calls stream ended")}
	b := &batcher[int, string]{one: f.one, many: f.many}
	for _, r := range behindOne(t, f, b, 1, 2, 3) {
		if r.in > 1 && !errors.Is(r.err, ErrUnavailable) {
			t.Fatalf("item %d: err %v; want the group's ErrUnavailable", r.in, r.err)
		}
	}
}

// TestBatcherDropsACallWhoseCallerLeft: a queued call whose context ends before its
// group leaves returns the context's error and is not sent.
func TestBatcherDropsACallWhoseCallerLeft(t *testing.T) {
	f := &fakeSends{hold: make(chan struct{}), entered: make(chan struct{}, 1)}
	b := &batcher[int, string]{one: f.one, many: f.many}
	first := make(chan error, 1)
	go func() { _, err := b.do(context.Background(), 1); first <- err }()
	<-f.entered
	f.entered = nil
	ctx, cancel := context.WithCancel(context.Background())
	left := make(chan error, 1)
	go func() { _, err := b.do(ctx, 2); left <- err }()
	queued(t, b, 1)
	cancel()
	if err := <-left; !errors.Is(err, context.Canceled) {
		t.Fatalf("the call whose caller left = %v; want context.Canceled", err)
	}
	close(f.hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	idle(t, b)
	if !slices.Equal(f.singles, []int{1}) || len(f.groups) != 0 {
		t.Fatalf("singles %v, groups %v; want only the first call sent", f.singles, f.groups)
	}
}

// TestBatcherSplitsABurstIntoBoundedGroups: more calls queued than maxBatch leave in
// groups of at most maxBatch, every call answered.
func TestBatcherSplitsABurstIntoBoundedGroups(t *testing.T) {
	f := &fakeSends{}
	b := &batcher[int, string]{one: f.one, many: f.many}
	rest := make([]int, maxBatch+2)
	for i := range rest {
		rest[i] = i + 2
	}
	for _, r := range behindOne(t, f, b, 1, rest...) {
		if r.err != nil {
			t.Fatalf("item %d: %v", r.in, r.err)
		}
	}
	var sizes []int
	for _, g := range f.groups {
		sizes = append(sizes, len(g))
	}
	if !slices.Equal(sizes, []int{maxBatch, 2}) {
		t.Fatalf("group sizes %v; want %d then 2", sizes, maxBatch)
	}
}
