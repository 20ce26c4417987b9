package plugins

import (
	"context"
	"errors"
	"io"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/sdk/envelope"
	eventspb "github.com/sous-run/sous/sdk/proto/events"
)

// The events-memory example, driven through the manager like the host would: a
// following Read gets events published after it started and ends after done; a Read
// resumes after an id; Expire drops the log; bad input is refused without storing.
func TestExampleEventsMemoryThroughManager(t *testing.T) {
	m := start(t, load(t, memoryEvents(t, pluginDir(t, "messaging-fake"), exampleEvents(t))))
	ctx := context.Background()
	ev := m.Events()
	rd, err := ev.Read(ctx, &eventspb.ReadRequest{Tenant: "t", InvocationId: "f"})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []string, 1)
	go func() {
		var ids []string
		for {
			e, err := rd.Recv()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					ids = append(ids, "error: "+err.Error())
				}
				got <- ids
				return
			}
			ids = append(ids, e.Id)
		}
	}()
	chunk := func(seq int64) *envelope.Envelope {
		return &envelope.Envelope{Type: envelope.TypeChunk, Seq: seq, Data: []byte(`1`)}
	}
	for _, batch := range [][]*envelope.Envelope{{chunk(1)}, {chunk(2), chunk(3)}, {envelope.Done()}} {
		if _, err := publish(ctx, t, ev, "f", batch...); err != nil {
			t.Fatal(err)
		}
	}
	if ids := <-got; len(ids) != 4 || ids[0] != "1" || ids[3] != "4" {
		t.Fatalf("following Read got %v, want ids 1..4 then end", ids)
	}
	rd, err = ev.Read(ctx, &eventspb.ReadRequest{Tenant: "t", InvocationId: "f", AfterId: "3"})
	if err != nil {
		t.Fatal(err)
	}
	if e, err := rd.Recv(); err != nil || e.Id != "4" {
		t.Fatalf("resume after 3: %v %v", e, err)
	}
	// plugintest.Events: an event published after done is stored but never read.
	if _, err := publish(ctx, t, ev, "f", chunk(4)); err != nil {
		t.Fatalf("publish after done: %v", err)
	}
	if rd, err = ev.Read(ctx, &eventspb.ReadRequest{Tenant: "t", InvocationId: "f", AfterId: "4"}); err != nil {
		t.Fatal(err)
	}
	if e, err := rd.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("read after done: %v %v, want the end of the stream", e, err)
	}
	if _, err := ev.Publish(ctx, &eventspb.PublishRequest{Tenant: "t", InvocationId: "g",
		Envelopes: [][]byte{envJSON(t, chunk(1)), []byte(`{"type":"nope"}`)}}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("invalid envelope: %v", err)
	}
	if _, err := ev.Expire(ctx, &eventspb.ExpireRequest{Tenant: "t", InvocationId: "f", TtlSeconds: 0}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the log to expire", func() bool {
		rd, err := ev.Read(ctx, &eventspb.ReadRequest{Tenant: "t", InvocationId: "f", NoFollow: true})
		if err != nil {
			return false
		}
		_, err = rd.Recv()
		return errors.Is(err, io.EOF)
	})
	// Nothing of the refused batch was stored.
	rd, err = ev.Read(ctx, &eventspb.ReadRequest{Tenant: "t", InvocationId: "g", NoFollow: true})
	if err != nil {
		t.Fatal(err)
	}
	if e, err := rd.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("refused batch left %v (%v)", e, err)
	}
}
