package broker_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/token"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/producerpb"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/workerpb"
)

// The in-memory streams answer a bad Hello with the codes a network stream gives.
func TestMemConnHelloCodes(t *testing.T) {
	b := startBroker(t, t.TempDir(), nil)
	mc := b.DialMem()
	t.Cleanup(func() { _ = mc.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, c := range []struct {
		name string
		ev   *workerpb.WorkerEvent
		want codes.Code
	}{
		{"bad token", &workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Hello{Hello: &workerpb.Hello{Token: "nope"}}}, codes.Unauthenticated},
		{"no scope", &workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Hello{Hello: &workerpb.Hello{Token: mint(t, "acme", token.ScopeProduce)}}}, codes.PermissionDenied},
		{"no hello", &workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Ready{Ready: &workerpb.Ready{Commands: []string{cmd}}}}, codes.FailedPrecondition},
	} {
		st, err := workerpb.NewWorkerStreamClient(mc).Stream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Send(c.ev); err != nil {
			t.Fatalf("%s: send: %v", c.name, err)
		}
		if _, err := st.Recv(); status.Code(err) != c.want {
			t.Errorf("%s: Recv = %v, want code %s", c.name, err, c.want)
		}
	}
}

// A task goes create → claim → result over the in-memory streams as over the network:
// acks come back by seq and task id, and after CloseSend the producer stream ends with
// the same status.
func TestMemConnRoundTrip(t *testing.T) {
	b := startBroker(t, t.TempDir(), nil)
	mc := b.DialMem()
	t.Cleanup(func() { _ = mc.Close() })
	mem := roundTrip(t, mc, mc)
	tcp := roundTrip(t, dial(t, b.ProducerAddr), dial(t, b.WorkerAddr))
	if status.Code(mem) != status.Code(tcp) {
		t.Fatalf("after CloseSend the in-memory stream ends with %v, the network one with %v", mem, tcp)
	}
}

// roundTrip runs one task through and returns how the producer stream ended after CloseSend.
func roundTrip(t *testing.T, pc, wc grpc.ClientConnInterface) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ps, err := producerpb.NewProducerStreamClient(pc).Stream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustSend(t, ps.Send(&producerpb.ProducerEvent{Event: &producerpb.ProducerEvent_Hello{Hello: &producerpb.Hello{Token: mint(t, "acme", token.ScopeProduce)}}}))
	if ev, err := ps.Recv(); err != nil || ev.GetHelloAck().GetTenantId() != "acme" {
		t.Fatalf("producer hello: %v %v", ev, err)
	}
	mustSend(t, ps.Send(&producerpb.ProducerEvent{Event: &producerpb.ProducerEvent_Create{Create: &producerpb.CreateTask{Command: cmd, Payload: []byte(`{"n":1}`), Seq: 9}}}))
	ack, err := ps.Recv()
	if err != nil || !ack.GetCreateAck().GetOk() || ack.GetCreateAck().GetSeq() != 9 {
		t.Fatalf("create ack: %v %v", ack, err)
	}
	id := ack.GetCreateAck().TaskId

	ws, err := workerpb.NewWorkerStreamClient(wc).Stream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustSend(t, ws.Send(&workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Hello{Hello: &workerpb.Hello{Token: mint(t, "acme", token.WorkerScopes), WorkerId: "w1"}}}))
	if ev, err := ws.Recv(); err != nil || ev.GetHelloAck().GetWorkerId() != "w1" {
		t.Fatalf("worker hello: %v %v", ev, err)
	}
	mustSend(t, ws.Send(&workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Ready{Ready: &workerpb.Ready{Commands: []string{cmd}, Count: 1}}}))
	ev, err := ws.Recv()
	if err != nil || ev.GetTask().GetTask().GetId() != id || string(ev.GetTask().GetTask().GetPayload()) != `{"n":1}` {
		t.Fatalf("want task %s with its payload, got %v %v", id, ev, err)
	}
	mustSend(t, ws.Send(&workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Result{Result: &workerpb.Result{TaskId: id, Status: "COMPLETED", ResultJson: []byte(`{"ok":true}`)}}}))
	if ev, err := ws.Recv(); err != nil || !ev.GetResultAck().GetOk() || ev.GetResultAck().GetTaskId() != id {
		t.Fatalf("result ack: %v %v", ev, err)
	}
	if err := ps.CloseSend(); err != nil {
		t.Fatal(err)
	}
	_, err = ps.Recv()
	if err == nil {
		t.Fatal("after CloseSend the producer stream sent a message")
	}
	return err
}

// Closing the broker ends open in-memory streams (the client reads an error instead of
// waiting forever), and no new stream opens on a closed broker.
func TestMemConnEndsWithBroker(t *testing.T) {
	b := startBroker(t, t.TempDir(), nil)
	mc := b.DialMem()
	t.Cleanup(func() { _ = mc.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, err := workerpb.NewWorkerStreamClient(mc).Stream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustSend(t, ws.Send(&workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Hello{Hello: &workerpb.Hello{Token: mint(t, "acme", token.WorkerScopes)}}}))
	if _, err := ws.Recv(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { _, err := ws.Recv(); ended <- err }()
	_ = b.Close()
	select {
	case err := <-ended:
		if err == nil {
			t.Fatal("Recv after the broker closed returned a message")
		}
	case <-ctx.Done():
		t.Fatal("the in-memory stream outlived the broker")
	}
	if _, err := workerpb.NewWorkerStreamClient(mc).Stream(ctx); status.Code(err) != codes.Unavailable {
		t.Fatalf("a stream on a closed broker: %v, want Unavailable", err)
	}
}

// MemConn.Close ends the streams opened on it: the handler stops and the client reads Canceled.
func TestMemConnCloseEndsStreams(t *testing.T) {
	b := startBroker(t, t.TempDir(), nil)
	mc := b.DialMem()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ps, err := producerpb.NewProducerStreamClient(mc).Stream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = mc.Close()
	if _, err := ps.Recv(); status.Code(err) != codes.Canceled {
		t.Fatalf("Recv on a closed conn: %v, want Canceled", err)
	}
	if err := ps.Send(&producerpb.ProducerEvent{}); !errors.Is(err, io.EOF) {
		t.Fatalf("Send on a closed conn: %v, want io.EOF", err)
	}
}

func mustSend(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
