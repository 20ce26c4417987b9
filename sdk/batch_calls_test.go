package sdk

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"

	basepb "github.com/sous-run/sous/sdk/proto/base"
	eventspb "github.com/sous-run/sous/sdk/proto/events"
)

// batchLog is a fakeLog with PublishBatch; a publish of invocation "hold" waits for
// release, so that others queue behind it.
type batchLog struct {
	fakeLog
	release chan struct{}
	held    chan struct{}
	batches [][]string
}

func (l *batchLog) Publish(ctx context.Context, tenant, id string, envs ...[]byte) ([]string, error) {
	return l.PublishLast(ctx, tenant, id, 0, envs...)
}

func (l *batchLog) PublishLast(ctx context.Context, tenant, id string, ttl time.Duration, envs ...[]byte) ([]string, error) {
	if id == "hold" {
		l.held <- struct{}{}
		<-l.release
	}
	l.record("publish " + id)
	return []string{"1-" + id}, nil
}

func (l *batchLog) PublishBatch(ctx context.Context, items []PublishItem) []PublishResult {
	res := make([]PublishResult, len(items))
	var ids []string
	for i, it := range items {
		ids = append(ids, fmt.Sprintf("%s/%s", it.InvocationID, it.TTL))
		res[i].IDs = []string{"2-" + it.InvocationID}
		if it.InvocationID == "bad" {
			res[i] = PublishResult{Err: Errorf(ErrInvalid, "envelope 0 of invocation bad is not a JSON object")}
		}
	}
	l.mu.Lock()
	l.batches = append(l.batches, ids)
	l.mu.Unlock()
	return res
}

// TestPublishesQueuedBehindOneReachTheDriverAsOneBatch: over a real Calls plane, the
// publishes made while one is on its way reach the driver's PublishBatch in one call,
// each with its TTL, and each caller gets its own ids or its own error.
func TestPublishesQueuedBehindOneReachTheDriverAsOneBatch(t *testing.T) {
	f := &batchLog{release: make(chan struct{}), held: make(chan struct{}, 1)}
	cs := serveWith(t, func(srv *grpc.Server) {
		b := &baseServer{b: f}
		b.configured.Store(true)
		basepb.RegisterBaseServer(srv, b)
		eventspb.RegisterEventsServer(srv, &eventsServer{baseServer: b, e: f})
	})
	e := NewEventsClient(cs.dial(t)).(*eventsClient)
	ctx := context.Background()
	for end := time.Now().Add(5 * time.Second); e.calls.get() == nil; time.Sleep(5 * time.Millisecond) {
		if _, err := e.Publish(ctx, "t", "open", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(end) {
			t.Fatal("the events Calls plane did not open")
		}
	}
	type answer struct {
		id  string
		ids []string
		err error
	}
	answers := make(chan answer, 4)
	publish := func(id string, ttl time.Duration) {
		ids, err := PublishLast(ctx, e, "t", id, ttl, []byte(`{}`))
		answers <- answer{id, ids, err}
	}
	go publish("hold", 0)
	<-f.held
	for i, id := range []string{"a", "b", "bad"} {
		go publish(id, time.Duration(i)*time.Minute)
	}
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		e.publishes.mu.Lock()
		n := len(e.publishes.queue)
		e.publishes.mu.Unlock()
		if n == 3 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("%d publishes queued; want 3", n)
		}
	}
	close(f.release)
	got := map[string]answer{}
	for range 4 {
		a := <-answers
		got[a.id] = a
	}
	if a := got["hold"]; a.err != nil || !slices.Equal(a.ids, []string{"1-hold"}) {
		t.Fatalf("the lone publish = %v, %v", a.ids, a.err)
	}
	for _, id := range []string{"a", "b"} {
		if a := got[id]; a.err != nil || !slices.Equal(a.ids, []string{"2-" + id}) {
			t.Fatalf("publish %s = %v, %v; want its id from the batch", id, a.ids, a.err)
		}
	}
	if a := got["bad"]; a.err == nil || a.err.Error() != "envelope 0 of invocation bad is not a JSON object" {
		t.Fatalf("publish bad = %v; want its own error", a.err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.batches) == 1 {
		slices.Sort(f.batches[0])
	}
	if want := [][]string{{"a/0s", "b/1m0s", "bad/2m0s"}}; len(f.batches) != 1 || !slices.Equal(f.batches[0], want[0]) {
		t.Fatalf("the driver's batches %v; want %v", f.batches, want)
	}
}

// TestABatchReachesADriverWithoutPublishBatchOneByOne: a driver without the batch
// method gets each item of a batch as its own publish.
func TestABatchReachesADriverWithoutPublishBatchOneByOne(t *testing.T) {
	f := &fakeLog{}
	s := &eventsServer{baseServer: &baseServer{b: f}, e: f}
	s.configured.Store(true)
	r := s.call(context.Background(), &eventspb.Call{Id: 7, Req: &eventspb.Call_PublishBatch{PublishBatch: &eventspb.PublishBatchRequest{
		Items: []*eventspb.PublishRequest{{Tenant: "t", InvocationId: "a", Envelopes: [][]byte{[]byte(`{}`)}}, {Tenant: "t", InvocationId: "b", Envelopes: [][]byte{[]byte(`{}`), []byte(`{}`)}}},
	}}})
	res := r.GetPublishBatch().GetResults()
	if r.GetCode() != 0 || len(res) != 2 || len(res[0].Ids) != 1 || len(res[1].Ids) != 2 {
		t.Fatalf("reply %v; want two results with one and two ids", r)
	}
	got := f.recorded()
	slices.Sort(got)
	if !slices.Equal(got, []string{"publish 1", "publish 2"}) {
		t.Fatalf("the driver got %v; want each item published", got)
	}
}
