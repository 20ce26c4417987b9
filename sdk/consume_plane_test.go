package sdk

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// consumeFailing is a queue whose Consume fails with err.
type consumeFailing struct {
	*callsQueue
	err error
}

func (q consumeFailing) Consume(context.Context, Subscription) (Consumer, error) { return nil, q.err }

// TestConsumeOnTheDataPlane: a host whose plugin serves Calls asks for the data plane
// on Subscribe; credits and deliveries then travel there: the streams receive only
// the Subscribe, and the deliveries arrive as the driver gave them.
func TestConsumeOnTheDataPlane(t *testing.T) {
	q := newCallsQueue()
	q.asks, q.next = make(chan int, 4), make(chan []Delivery, 4)
	cs, m := serveQueue(t, q, true)
	ctx := context.Background()
	c, err := m.Consume(ctx, Subscription{Commands: []string{"cmd"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*wireConsumer).stream.(consumeFrames); !ok {
		t.Fatalf("the consumer reads %T; want the data plane", c.(*wireConsumer).stream)
	}
	for i := range 3 {
		q.next <- []Delivery{{Task: Task{ID: fmt.Sprint("t", i), Tenant: "t", Command: "cmd"}, Lease: Lease{ID: "l"}}}
		ds, err := c.Next(ctx, 2)
		if err != nil || len(ds) != 1 || ds[0].Task.ID != fmt.Sprint("t", i) {
			t.Fatalf("Next %d = %+v, %v", i, ds, err)
		}
	}
	if got := <-q.asks; got != 2 {
		t.Fatalf("the driver was asked for %d; the host granted 2", got)
	}
	if n := cs.msgs.Load(); n != 1 {
		t.Fatalf("the streams received %d messages; want the Subscribe alone", n)
	}
}

// TestConsumeErrorOnTheDataPlane: a driver's Consume error reaches the host's Next
// with its kind and message, as it does on the stream.
func TestConsumeErrorOnTheDataPlane(t *testing.T) {
	want := fmt.Errorf("commands: %w", ErrInvalid)
	cs, m := serveQueue(t, consumeFailing{newCallsQueue(), want}, true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := m.Consume(ctx, Subscription{Commands: []string{"cmd"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*wireConsumer).stream.(consumeFrames); !ok {
		t.Fatal("the consumer is not on the data plane")
	}
	if _, err := c.Next(ctx, 1); !errors.Is(err, ErrInvalid) || err.Error() != want.Error() {
		t.Fatalf("Next = %v; want %v", err, want)
	}
	if n := cs.msgs.Load(); n != 1 {
		t.Fatalf("the streams received %d messages; want the Subscribe alone", n)
	}
}

// TestConsumeFromAPluginWithoutCalls: a plugin from before the data plane gets no
// data_plane request and its Consume stream carries the credits as before.
func TestConsumeFromAPluginWithoutCalls(t *testing.T) {
	q := newCallsQueue()
	q.asks, q.next = make(chan int, 4), make(chan []Delivery, 4)
	cs, m := serveQueue(t, q, false)
	ctx := context.Background()
	c, err := m.Consume(ctx, Subscription{Commands: []string{"cmd"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*wireConsumer).stream.(consumeFrames); ok {
		t.Fatal("the consumer is on a data plane the plugin cannot serve")
	}
	q.next <- []Delivery{{Task: Task{ID: "t0", Tenant: "t", Command: "cmd"}, Lease: Lease{ID: "l"}}}
	if ds, err := c.Next(ctx, 1); err != nil || len(ds) != 1 || ds[0].Task.ID != "t0" {
		t.Fatalf("Next = %+v, %v", ds, err)
	}
	if n := cs.msgs.Load(); n < 2 {
		t.Fatalf("the Consume stream received %d messages; want the Subscribe and credits", n)
	}
}
