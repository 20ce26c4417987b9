package events

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func collect(t *testing.T, l Log, tenant, id, after string, follow bool) []Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got []Event
	if err := l.Read(ctx, tenant, id, after, follow, func(e Event) error { got = append(got, e); return nil }); err != nil {
		t.Fatalf("read: %v", err)
	}
	return got
}

func TestEmbeddedOrderResumeAndDone(t *testing.T) {
	l := NewEmbedded(EmbeddedOptions{})
	defer l.Close()
	ctx := context.Background()
	ids, err := l.Publish(ctx, "t1", "inv", []byte(`{"type":"chunk","data":1,"seq":1}`), []byte(`{"type":"chunk","data":2,"seq":2}`))
	if err != nil || len(ids) != 2 {
		t.Fatalf("publish: %v %v", ids, err)
	}
	done := make(chan []Event)
	go func() { done <- collect(t, l, "t1", "inv", "", true) }()
	time.Sleep(20 * time.Millisecond) // let the reader block (its result does not depend on it)
	if _, err := l.Publish(ctx, "t1", "inv", []byte(`{"type":"result","output":3}`), []byte(`{"type":"done"}`)); err != nil {
		t.Fatal(err)
	}
	got := <-done
	if len(got) != 4 || string(got[3].Envelope) != `{"type":"done"}` {
		t.Fatalf("follow read got %d events: %+v", len(got), got)
	}
	resumed := collect(t, l, "t1", "inv", got[1].ID, true)
	if len(resumed) != 2 || resumed[0].ID != got[2].ID {
		t.Fatalf("resume after %s got %+v", got[1].ID, resumed)
	}
	if other := collect(t, l, "t2", "inv", "", false); len(other) != 0 {
		t.Fatalf("tenant t2 saw t1's events: %+v", other)
	}
	if err := l.Read(ctx, "t1", "inv", "1-0", false, func(Event) error { return nil }); !errors.Is(err, ErrBadEventID) {
		t.Fatalf("read after a foreign id: want ErrBadEventID, got %v", err)
	}
}

func TestEmbeddedBoundedAndExpires(t *testing.T) {
	l := NewEmbedded(EmbeddedOptions{MaxEvents: 3})
	defer l.Close()
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if _, err := l.Publish(ctx, "t", "inv", []byte(fmt.Sprintf(`{"type":"chunk","data":%d,"seq":%d}`, i, i+1))); err != nil {
			t.Fatal(err)
		}
	}
	got := collect(t, l, "t", "inv", "", false)
	if len(got) != 3 || got[0].ID != "3" {
		t.Fatalf("want the last 3 events from id 3, got %+v", got)
	}
	if err := l.Expire(ctx, "t", "inv", time.Millisecond); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(collect(t, l, "t", "inv", "", false)) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("log was not expired by the sweeper")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestEmbeddedManyConcurrentInvocations(t *testing.T) {
	l := NewEmbedded(EmbeddedOptions{})
	defer l.Close()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		id := fmt.Sprintf("inv-%d", i)
		wg.Add(2)
		go func() {
			defer wg.Done()
			if got := collect(t, l, "t", id, "", true); len(got) != 11 {
				t.Errorf("%s: got %d events, want 11", id, len(got))
			}
		}()
		go func() {
			defer wg.Done()
			for j := 1; j <= 10; j++ {
				_, _ = l.Publish(context.Background(), "t", id, []byte(fmt.Sprintf(`{"type":"chunk","data":%d,"seq":%d}`, j, j)))
			}
			_, _ = l.Publish(context.Background(), "t", id, []byte(`{"type":"done"}`))
		}()
	}
	wg.Wait()
}

func TestEmbeddedReadRespectsContext(t *testing.T) {
	l := NewEmbedded(EmbeddedOptions{})
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := l.Read(ctx, "t", "never", "", true, func(Event) error { return nil })
	if err != context.DeadlineExceeded {
		t.Fatalf("want deadline exceeded, got %v", err)
	}
}
