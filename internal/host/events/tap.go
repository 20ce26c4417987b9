package events

import (
	"context"
	"sync"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/sdk"
)

// Tap bounds: what one run and all runs together may hold, how long a follower waits
// for this host's worker to take a run it expects, and how long a run's events stay
// after the worker let go of it (for a follower that attaches late).
const (
	tapRunBytes  = 256 << 10
	tapMaxBytes  = 32 << 20
	tapGrace     = 25 * time.Millisecond
	tapLinger    = 2 * time.Second
	tapSweepTick = time.Second
)

// Tap is the event log of a host that runs both roles, in front of a shared log (an
// events plugin). When this host's control role expects a caller to follow a run
// (Expect) and this host's worker takes it (Claim), what the worker publishes goes to
// the shared log first and then straight to the follower, with the id the shared log
// gave it: the follower does not wait for, nor pay for, a read back through the plugin.
// A run this host's worker does not take within tapGrace, one that outgrows the bounds,
// and one its worker lets go of before done are followed on the shared log, after the
// last event already delivered. Every other call goes to the shared log.
//
// A follower that needs no event ids (WithoutIDs: a caller waiting for one JSON
// answer) gets a claimed run's last batch, the one that ends with done, while the
// shared log is still appending it: its answer waits for the record's write, not for
// the shared log's round trip as well. The worker's outcome is decided by then, and a
// publish that fails leaves done to the final record, as it already does. A follower
// that needs the ids may ask for the batch as a hint (WithLastHint) while it waits for
// them.
type Tap struct {
	Log

	mu    sync.Mutex
	runs  map[tapKey]*tapRun
	bytes int // held by all runs
	stop  chan struct{}
}

type tapKey struct{ tenant, id string }

// tapRun is one expected run. Its events are appended in publish order (a worker
// publishes one run's batches one after another).
type tapRun struct {
	events  []Event
	bytes   int
	claimed bool      // this host's worker holds the run
	ended   bool      // the worker let go of it (done published or not)
	over    bool      // past the bounds: its events were dropped
	expires time.Time // zero while claimed
	readers int
	last    [][]byte      // the batch ending with done while the shared log appends it
	wake    chan struct{} // closed and replaced on every change
}

// noIDsKey marks a reader's context: it takes events without ids (WithoutIDs).
type noIDsKey struct{}

// WithoutIDs returns ctx marking its reads as needing no event ids: a claimed run's
// last batch reaches them before the shared log gave it ids (see Tap).
func WithoutIDs(ctx context.Context) context.Context {
	return context.WithValue(ctx, noIDsKey{}, true)
}

func wantsIDs(ctx context.Context) bool { return ctx.Value(noIDsKey{}) == nil }

// lastHintKey carries a reader's WithLastHint function.
type lastHintKey struct{}

// WithLastHint returns ctx asking reads that need ids to call hint once with a claimed
// run's last batch (ending with done) when it leaves for the shared log, before its
// events arrive with their ids: a follower can start what the outcome decides (the
// final record) meanwhile. hint is called from the read, in order after the events
// relayed before it; its error ends the read.
func WithLastHint(ctx context.Context, hint func(envelopes [][]byte) error) context.Context {
	return context.WithValue(ctx, lastHintKey{}, hint)
}

func lastHintOf(ctx context.Context) func([][]byte) error {
	h, _ := ctx.Value(lastHintKey{}).(func([][]byte) error)
	return h
}

// NewTap wraps shared; Close stops its sweeper.
func NewTap(shared Log) *Tap {
	t := &Tap{Log: shared, runs: map[tapKey]*tapRun{}, stop: make(chan struct{})}
	go t.sweep()
	return t
}

// Close stops the sweeper (the shared log is closed by its owner).
func (t *Tap) Close() { close(t.stop) }

// Expect says a caller of this host will follow the run: its events are kept here if
// this host's worker takes it.
func (t *Tap) Expect(tenant, id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := tapKey{tenant, id}
	if t.runs[k] == nil {
		t.runs[k] = &tapRun{wake: make(chan struct{}), expires: time.Now().Add(tapGrace + tapLinger)}
	}
}

// Claim says this host's worker runs the invocation; release says it let go of it.
func (t *Tap) Claim(tenant, id string) (release func()) {
	k := tapKey{tenant, id}
	t.mu.Lock()
	r := t.runs[k]
	if r == nil { // nobody here expects it
		t.mu.Unlock()
		return func() {}
	}
	r.claimed, r.ended, r.expires = true, false, time.Time{}
	r.changed()
	t.mu.Unlock()
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.runs[k] == r {
			r.ended, r.expires = true, time.Now().Add(tapLinger)
			r.changed()
		}
	}
}

// Publish appends to the shared log, then hands the events to this host's followers.
func (t *Tap) Publish(ctx context.Context, tenant, id string, envelopes ...[]byte) ([]string, error) {
	ids, err := t.Log.Publish(ctx, tenant, id, envelopes...)
	t.deliver(tenant, id, ids, envelopes, err)
	return ids, err
}

// PublishLast is Publish with the log's TTL set in the same call. A batch that ends
// with done goes to the claimed run's followers without ids first (see Tap).
func (t *Tap) PublishLast(ctx context.Context, tenant, id string, ttl time.Duration, envelopes ...[]byte) ([]string, error) {
	if n := len(envelopes); n > 0 && invocation.IsDone(envelopes[n-1]) {
		t.offerLast(tenant, id, envelopes)
	}
	ids, err := sdk.PublishLast(ctx, t.Log, tenant, id, ttl, envelopes...)
	t.deliver(tenant, id, ids, envelopes, err)
	return ids, err
}

// offerLast hands a claimed run's last batch to its followers that need no ids.
func (t *Tap) offerLast(tenant, id string, envs [][]byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r := t.runs[tapKey{tenant, id}]; r != nil && r.claimed && !r.over {
		r.last = envs
		r.changed()
	}
}

// deliver records a publish of a claimed run. A failed publish, or one whose ids do not
// match, leaves the run to the shared log from here on.
func (t *Tap) deliver(tenant, id string, ids []string, envs [][]byte, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.runs[tapKey{tenant, id}]
	if r == nil || !r.claimed || r.over {
		return
	}
	r.last = nil
	n := 0
	for _, e := range envs {
		n += len(e)
	}
	if err != nil || len(ids) != len(envs) || r.bytes+n > tapRunBytes || t.bytes+n > tapMaxBytes {
		t.bytes -= r.bytes
		r.events, r.bytes, r.over = nil, 0, true
		r.changed()
		return
	}
	for i, e := range envs {
		r.events = append(r.events, Event{ID: ids[i], Envelope: e})
	}
	r.bytes += n
	t.bytes += n
	r.changed()
}

// Read follows an expected run here while this host's worker holds it, and on the
// shared log otherwise (see Tap).
func (t *Tap) Read(ctx context.Context, tenant, id, afterID string, follow bool, fn func(Event) error) error {
	k := tapKey{tenant, id}
	t.mu.Lock()
	r := t.runs[k]
	if !follow || r == nil {
		t.mu.Unlock()
		return t.Log.Read(ctx, tenant, id, afterID, follow, fn)
	}
	r.readers++
	t.mu.Unlock()
	after, done, err := t.readLocal(ctx, r, afterID, wantsIDs(ctx), fn)
	t.mu.Lock()
	r.readers--
	t.mu.Unlock()
	if done || err != nil {
		return err
	}
	return t.Log.Read(ctx, tenant, id, after, follow, fn)
}

// readLocal relays r's events after afterID until done (done true), until the run is
// left to the shared log (after is the last id relayed), or fn or ctx fails. Without
// ids it relays the last batch as soon as it is offered; with ids it passes it to the
// reader's hint (WithLastHint), once.
func (t *Tap) readLocal(ctx context.Context, r *tapRun, afterID string, ids bool, fn func(Event) error) (after string, done bool, err error) {
	after = afterID
	hint := lastHintOf(ctx)
	grace := time.NewTimer(tapGrace)
	defer grace.Stop()
	t.mu.Lock()
	next, ok := 0, afterID == ""
	for i, e := range r.events { // a follower resuming after an event held here
		if e.ID == afterID {
			next, ok = i+1, true
		}
	}
	t.mu.Unlock()
	if !ok {
		return after, false, nil
	}
	for {
		t.mu.Lock()
		if r.over {
			t.mu.Unlock()
			return after, false, nil
		}
		batch := r.events[next:len(r.events):len(r.events)]
		next = len(r.events)
		claimed, ended, wake, last := r.claimed, r.ended, r.wake, r.last
		if len(batch) == 0 && !ids && r.last != nil {
			batch = make([]Event, len(r.last)) // the last batch, ending with done
			for i, e := range r.last {
				batch[i] = Event{Envelope: e}
			}
		}
		t.mu.Unlock()
		for _, e := range batch {
			if err := fn(e); err != nil {
				return after, false, err
			}
			if e.ID != "" {
				after = e.ID
			}
			if invocation.IsDone(e.Envelope) {
				return after, true, nil
			}
		}
		if len(batch) > 0 {
			continue
		}
		if ids && hint != nil && last != nil {
			if err := hint(last); err != nil {
				return after, false, err
			}
			hint = nil
		}
		if ended { // let go of before done: a retry may run elsewhere
			return after, false, nil
		}
		graceC := grace.C
		if claimed {
			graceC = nil
		}
		select {
		case <-wake:
		case <-graceC: // not taken here: another worker has it, or it waits in the queue
			return after, false, nil
		case <-ctx.Done():
			return after, false, ctx.Err()
		}
	}
}

// changed wakes r's readers; called with the Tap's lock held.
func (r *tapRun) changed() {
	close(r.wake)
	r.wake = make(chan struct{})
}

// sweep drops runs past their expiry that nobody reads.
func (t *Tap) sweep() {
	tick := time.NewTicker(tapSweepTick)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case now := <-tick.C:
			t.mu.Lock()
			for k, r := range t.runs {
				if r.readers == 0 && !r.expires.IsZero() && now.After(r.expires) {
					t.bytes -= r.bytes
					delete(t.runs, k)
				}
			}
			t.mu.Unlock()
		}
	}
}

// Expecter is a log told which runs a caller of this host will follow (Tap).
type Expecter interface{ Expect(tenant, id string) }

// Claimer is a log told which runs this host's worker holds (Tap).
type Claimer interface {
	Claim(tenant, id string) (release func())
}
