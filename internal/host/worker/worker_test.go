package worker

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/fakes"
	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
)

// A run's log is status, its events, the terminal event and done, in that order; the
// task is acked with the outcome and the log gets its TTL.
func TestTerminalThenDone(t *testing.T) {
	r := newRig(t, Options{ID: "w1", EventsTTL: time.Minute}, fakes.Emit(`{"type":"chunk","seq":1,"data":1}`, resultEnv))
	r.start(t)
	r.enqueue(t, "inv1", 3)
	eventually(t, "done", func() bool { return slices.Contains(r.types("inv1"), envelope.TypeDone) })
	if got := strings.Join(r.types("inv1"), ","); got != "status,chunk,result,done" {
		t.Fatalf("log = %s, want status,chunk,result,done", got)
	}
	eventually(t, "the ack", func() bool { return len(r.msg.Calls("Ack")) == 1 })
	if o := r.result(t, "inv1"); o.Status != invocation.StatusSucceeded || o.Worker != "w1" || o.Attempt != 1 || o.Chunks != 1 {
		t.Fatalf("acked outcome %+v", o)
	}
	eventually(t, "the TTL", func() bool { ttl, ok := r.ev.TTL("t", "inv1"); return ok && ttl == time.Minute })
}

// A hung Ack is bounded by CallTimeout: done is still published and the slot comes
// back, so the next task runs.
func TestHungAckIsBounded(t *testing.T) {
	r := newRig(t, Options{Concurrency: 1, CallTimeout: 100 * time.Millisecond}, fakes.Emit(resultEnv))
	r.msg.Hook = fakes.HangOn("Ack")
	r.start(t)
	r.enqueue(t, "a", 3)
	r.enqueue(t, "b", 3)
	eventually(t, "both runs to finish", func() bool {
		return slices.Contains(r.types("a"), envelope.TypeDone) && slices.Contains(r.types("b"), envelope.TypeDone)
	})
	eventually(t, "the slot back", func() bool { return r.inFlight() == 0 })
}

// A hung Publish of the status event (with the run's first chunk) is bounded by
// CallTimeout: the run is abandoned and the task returned (nack) for another attempt,
// and the slot comes back.
func TestHungPublishReturnsTheTask(t *testing.T) {
	r := newRig(t, Options{Concurrency: 1, CallTimeout: 100 * time.Millisecond}, fakes.Emit(`{"type":"chunk","seq":1,"data":1}`, resultEnv))
	r.ev.Hook = fakes.HangOn("Publish")
	r.start(t)
	r.enqueue(t, "a", 1)
	eventually(t, "the nack", func() bool { return len(r.msg.Calls("Nack")) >= 1 })
	eventually(t, "the slot back", func() bool { return r.inFlight() == 0 })
	if n := len(r.msg.Calls("Ack")); n != 0 {
		t.Fatalf("a run whose status was never published was acked %d times", n)
	}
}

// The worker never holds more than Concurrency tasks, never asks for more than its
// free slots, and every slot comes back.
func TestCreditsNeverExceedConcurrency(t *testing.T) {
	g := newGate()
	r := newRig(t, Options{Concurrency: 2}, g.play)
	r.start(t)
	for i := range 6 {
		r.enqueue(t, fmt.Sprint("inv", i), 3)
	}
	eventually(t, "two runs", func() bool { running, _ := g.counts(); return running == 2 })
	time.Sleep(50 * time.Millisecond) // room for a third run, if the worker took one
	if running, _ := g.counts(); running != 2 || r.inFlight() != 2 {
		t.Fatalf("running %d, in flight %d with concurrency 2", running, r.inFlight())
	}
	close(g.release)
	eventually(t, "all six acks", func() bool { return len(r.msg.Calls("Ack")) == 6 })
	eventually(t, "the slots back", func() bool { return r.inFlight() == 0 })
	if _, peak := g.counts(); peak > 2 {
		t.Fatalf("%d runs at once with concurrency 2", peak)
	}
	if asked := r.msg.Asked(); slices.Max(asked) > 2 {
		t.Fatalf("Next asked for %v deliveries with concurrency 2", asked)
	}
}

// A consumer that fails is opened again; a run in flight keeps its slot across the
// reconnect (the new consumer asks only for the free ones) and is acked on its lease.
func TestReconnectKeepsInFlightSlots(t *testing.T) {
	g := newGate()
	r := newRig(t, Options{Concurrency: 2}, g.play)
	r.start(t)
	r.enqueue(t, "long", 3)
	eventually(t, "the run", func() bool { running, _ := g.counts(); return running == 1 })
	eventually(t, "the consumer to wait", func() bool { a := r.msg.Asked(); return len(a) == 1 && a[0] == 2 })
	r.msg.Break(fmt.Errorf("stream broke: %w", sdk.ErrUnavailable))
	eventually(t, "a second consumer asking", func() bool { a := r.msg.Asked(); return len(a) == 2 && a[1] > 0 })
	if a := r.msg.Asked(); a[1] != 1 {
		t.Fatalf("the new consumer asked for %d with one of two slots busy", a[1])
	}
	close(g.release)
	eventually(t, "the ack", func() bool { return len(r.msg.Calls("Ack")) == 1 })
	if o := r.result(t, "long"); o.Status != invocation.StatusSucceeded {
		t.Fatalf("outcome after reconnect %+v", o)
	}
	eventually(t, "the slot back", func() bool { return r.inFlight() == 0 })
}

// A run lost to its executor's exit is returned (nack); once the task is dead the
// worker finishes it as failed with kind crash, so the caller gets an answer.
func TestLostRunIsNackedThenDead(t *testing.T) {
	exited := sdk.FromStatus(statusErr("plugin executor-bun exited: signal: killed"))
	r := newRig(t, Options{}, func(context.Context, sdk.RunRequest, func([]byte) error) error { return exited })
	r.start(t)
	r.enqueue(t, "x", 2)
	eventually(t, "done", func() bool { return slices.Contains(r.types("x"), envelope.TypeDone) })
	if n := len(r.msg.Calls("Nack")); n != 2 {
		t.Fatalf("%d nacks for a task of 2 attempts", n)
	}
	if got := strings.Join(r.types("x"), ","); got != "status,status,error,done" {
		t.Fatalf("log = %s", got)
	}
	res, _ := r.msg.Result(context.Background(), "t", "x")
	if res.Status != sdk.TaskDead {
		t.Fatalf("task status %s, want dead", res.Status)
	}
	raw := r.ev.Envelopes("t", "x")[2]
	e, _ := envelope.Unmarshal(raw)
	if e.Type != envelope.TypeError || e.Kind != envelope.KindCrash {
		t.Fatalf("terminal %s, want kind crash", raw)
	}
}

// A task whose payload cannot be decoded fails at once with an infra record.
func TestUndecodableTaskFails(t *testing.T) {
	r := newRig(t, Options{}, fakes.Emit(resultEnv))
	r.start(t)
	if _, err := r.msg.Enqueue(context.Background(), sdk.Task{ID: "bad", Tenant: "t", Command: fnCommand, Payload: []byte(`{"nope"`)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the ack", func() bool { return len(r.msg.Calls("Ack")) == 1 })
	if o := r.result(t, "bad"); o.Status != invocation.StatusFailed || o.Error == nil || o.Error.Kind != envelope.KindInfra {
		t.Fatalf("outcome %+v", o)
	}
	if len(r.ex.Runs()) != 0 {
		t.Fatal("an undecodable task was run")
	}
}

// Ack retries while messaging is unavailable (a restarting plugin) within CallTimeout.
func TestAckRetriesUnavailable(t *testing.T) {
	r := newRig(t, Options{}, fakes.Emit(resultEnv))
	var fails int
	r.msg.Hook = func(_ context.Context, call, _ string) error {
		if call == "Ack" && fails < 2 {
			fails++
			return fmt.Errorf("plugin restarting: %w", sdk.ErrUnavailable)
		}
		return nil
	}
	r.start(t)
	r.enqueue(t, "a", 3)
	eventually(t, "the ack", func() bool { return len(r.msg.Calls("Ack")) == 1 })
	if o := r.result(t, "a"); o.Status != invocation.StatusSucceeded {
		t.Fatalf("outcome %+v", o)
	}
}

// A consumer that ends while every slot is busy is noticed at once: the worker opens a
// new one while the run still holds its slot, and asks it for nothing until the slot
// is free.
func TestReconnectWhileEverySlotIsBusy(t *testing.T) {
	g := newGate()
	r := newRig(t, Options{Concurrency: 1}, g.play)
	r.start(t)
	r.enqueue(t, "long", 3)
	eventually(t, "the run", func() bool { running, _ := g.counts(); return running == 1 })
	r.msg.Break(fmt.Errorf("stream broke: %w", sdk.ErrUnavailable))
	eventually(t, "a second consumer", func() bool { return r.msg.Opened() == 2 })
	if running, _ := g.counts(); running != 1 {
		t.Fatal("the run ended before the reconnect")
	}
	if a := r.msg.Asked(); a[1] != 0 {
		t.Fatalf("the new consumer was asked for %d with the only slot busy", a[1])
	}
	close(g.release)
	eventually(t, "the ack", func() bool { return len(r.msg.Calls("Ack")) == 1 })
}
