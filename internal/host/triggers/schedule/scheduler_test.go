package schedule

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/control"
	"github.com/sous-run/sous/internal/host/store"
)

// fakeControl records the requests the scheduler submits.
type fakeControl struct {
	mu   sync.Mutex
	reqs []control.Request
}

func (f *fakeControl) Submit(_ context.Context, req control.Request) (*control.Submitted, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, req)
	return &control.Submitted{Record: &store.Invocation{ID: req.Task.InvocationID}}, nil
}

func (f *fakeControl) fired(id string) []control.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []control.Request
	for _, r := range f.reqs {
		if r.Trigger == "schedule:"+id {
			out = append(out, r)
		}
	}
	return out
}

func TestCatchupNoneDropsMissedTicksOneFiresTheLatest(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := &store.Bundle{Runtime: "bun", Entry: "a.ts", TimeoutMS: 1000, MemoryMB: 64, Files: map[string][]byte{"a.ts": []byte("x")}}
	if _, err := st.CreateVersion("acme", "fn", b, "dev"); err != nil {
		t.Fatal(err)
	}
	var after time.Time
	for _, c := range []string{CatchupNone, CatchupOne} {
		sc, _, err := st.PutSchedule(&store.Schedule{Tenant: "acme", Function: "fn", ID: "c-" + c, Cron: "* * * * *",
			Env: "dev", Timezone: "UTC", Enabled: true, Catchup: c})
		if err != nil {
			t.Fatal(err)
		}
		after = sc.After
	}
	ctl := &fakeControl{}
	s := New(st, ctl, nil)
	missed := after.Truncate(time.Minute).Add(4 * time.Minute) // the host "was down" until 30 s past it
	s.Pass(context.Background(), missed.Add(30*time.Second))
	if n := len(ctl.fired("c-none")); n != 0 {
		t.Fatalf("catchup none fired %d missed ticks", n)
	}
	one := ctl.fired("c-one")
	if len(one) != 1 || !one[0].TickAt.Equal(missed) || !one[0].Async || one[0].Task.Digest == "" {
		t.Fatalf("catchup one: %+v; want the tick at %s once", one, missed)
	}
	if one[0].Task.InvocationID != TickID(&store.Schedule{Tenant: "acme", Function: "fn", ID: "c-one"}, missed) {
		t.Fatalf("invocation id %s is not the tick's id", one[0].Task.InvocationID)
	}
	s.Pass(context.Background(), missed.Add(31*time.Second)) // nothing new is due
	onTime := missed.Add(time.Minute)
	s.Pass(context.Background(), onTime.Add(time.Second))
	if n, m := len(ctl.fired("c-none")), len(ctl.fired("c-one")); n != 1 || m != 2 {
		t.Fatalf("after an on-time tick: none fired %d, one fired %d; want 1 and 2", n, m)
	}
	sc, _ := st.GetSchedule("acme", "fn", "c-none")
	if !sc.LastTick.Equal(onTime) || sc.LastInvocation == "" {
		t.Fatalf("schedule after firing: %+v", sc)
	}
}

func TestALatePassFiresEachOnTimeTickABackloggedOneCollapses(t *testing.T) {
	s, _ := Parse("@every 1s", "")
	after := time.Unix(1000, 0)
	fire, skipped, next := dueTicks(s, after, after.Add(3500*time.Millisecond), CatchupNone)
	if len(fire) != 3 || !fire[0].Equal(time.Unix(1001, 0)) || !skipped.IsZero() || !next.Equal(time.Unix(1004, 0)) {
		t.Fatalf("3.5 s late: fire %v skipped %v next %v; want the 3 ticks", fire, skipped, next)
	}
	for _, c := range []string{CatchupNone, CatchupOne} {
		fire, skipped, _ = dueTicks(s, after, after.Add(60*time.Second+500*time.Millisecond), c)
		if len(fire) != 1 || !fire[0].Equal(time.Unix(1060, 0)) || !skipped.IsZero() {
			t.Fatalf("catchup %s, 60 s down: fire %v skipped %v; want only the current tick", c, fire, skipped)
		}
	}
}
