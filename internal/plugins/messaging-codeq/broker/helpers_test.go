package broker_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/broker"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/token"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/producerpb"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/workerpb"
)

var key = []byte("protocol-test-shared-key")

const cmd = "sous.run.test"

func startBroker(t *testing.T, dir string, mod func(*broker.Config)) *broker.Broker {
	t.Helper()
	v, err := token.NewVerifier(token.VerifierConfig{HS256Key: key})
	if err != nil {
		t.Fatal(err)
	}
	cfg := broker.Config{DataDir: dir, ProducerAddr: "127.0.0.1:0", WorkerAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		Verifier: v, BackoffBase: 100 * time.Millisecond, ReapInterval: 20 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	b, err := broker.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func mint(t *testing.T, tenant, scope string) string {
	t.Helper()
	s, err := token.Mint(key, tenant, "test-"+scope, scope, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// rawWorker is a worker stream driven by hand from the generated protos.
type rawWorker struct {
	t  *testing.T
	st workerpb.WorkerStream_StreamClient
	ch chan *workerpb.ServerEvent
}

func openWorker(t *testing.T, b *broker.Broker, tok, id string) *rawWorker {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, err := workerpb.NewWorkerStreamClient(dial(t, b.WorkerAddr)).Stream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := &rawWorker{t: t, st: st, ch: make(chan *workerpb.ServerEvent, 100)}
	w.send(&workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Hello{Hello: &workerpb.Hello{Token: tok, WorkerId: id}}})
	go func() {
		for {
			ev, err := st.Recv()
			if err != nil {
				close(w.ch)
				return
			}
			w.ch <- ev
		}
	}()
	if w.next().GetHelloAck() == nil {
		t.Fatal("no HelloAck")
	}
	return w
}

func (w *rawWorker) send(ev *workerpb.WorkerEvent) {
	w.t.Helper()
	if err := w.st.Send(ev); err != nil {
		w.t.Fatal(err)
	}
}

func (w *rawWorker) next() *workerpb.ServerEvent {
	w.t.Helper()
	select {
	case ev, ok := <-w.ch:
		if !ok {
			w.t.Fatal("worker stream closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		w.t.Fatal("no server event within 10s")
	}
	return nil
}

// quiet asserts no event arrives within d.
func (w *rawWorker) quiet(d time.Duration) {
	w.t.Helper()
	select {
	case ev := <-w.ch:
		w.t.Fatalf("unexpected event %v", ev)
	case <-time.After(d):
	}
}

func (w *rawWorker) ready(count int32, lease int32) {
	w.send(&workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Ready{Ready: &workerpb.Ready{Commands: []string{cmd}, Count: count, LeaseSeconds: lease}}})
}

func (w *rawWorker) task() *workerpb.Task {
	w.t.Helper()
	ev := w.next()
	if ta := ev.GetTask(); ta != nil {
		return ta.Task
	}
	w.t.Fatalf("want a TaskAssignment, got %v", ev)
	return nil
}

func (w *rawWorker) result(id, status string, res []byte, msg string) *workerpb.ResultAck {
	w.send(&workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Result{Result: &workerpb.Result{TaskId: id, Status: status, ResultJson: res, Error: msg}}})
	return w.next().GetResultAck()
}

func (w *rawWorker) nack(id string, delay int32) *workerpb.NackAck {
	w.send(&workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Nack{Nack: &workerpb.Nack{TaskId: id, DelaySeconds: delay, Reason: "try later"}}})
	return w.next().GetNackAck()
}

// create sends one CreateTask on a fresh producer stream and returns the task id.
func create(t *testing.T, b *broker.Broker, c *producerpb.CreateTask) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := producerpb.NewProducerStreamClient(dial(t, b.ProducerAddr)).Stream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = st.Send(&producerpb.ProducerEvent{Event: &producerpb.ProducerEvent_Hello{Hello: &producerpb.Hello{Token: mint(t, "acme", token.ScopeProduce)}}})
	if ev, err := st.Recv(); err != nil || ev.GetHelloAck().GetTenantId() != "acme" {
		t.Fatalf("producer hello: %v %v", ev, err)
	}
	if c.Command == "" {
		c.Command = cmd
	}
	c.Seq = 7
	_ = st.Send(&producerpb.ProducerEvent{Event: &producerpb.ProducerEvent_Create{Create: c}})
	ev, err := st.Recv()
	if err != nil || !ev.GetCreateAck().GetOk() || ev.GetCreateAck().GetSeq() != 7 {
		t.Fatalf("create ack: %v %v", ev, err)
	}
	return ev.GetCreateAck().TaskId
}

// rest GETs path with a producer token and decodes JSON into out; returns the status.
func rest(t *testing.T, b *broker.Broker, path string, out any) int {
	t.Helper()
	return restAs(t, b, mint(t, "acme", token.ScopeProduce), path, out)
}

// restAs GETs path with tok and decodes a 200 body into out; returns the status.
func restAs(t *testing.T, b *broker.Broker, tok, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+b.HTTPAddr+path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

type resultBody struct {
	Task   map[string]any `json:"task"`
	Result struct {
		TaskID string          `json:"taskId"`
		Status string          `json:"status"`
		Result json.RawMessage `json:"result"`
		Error  string          `json:"error"`
	} `json:"result"`
}

func stats(t *testing.T, b *broker.Broker) broker.QueueStats {
	t.Helper()
	var s broker.QueueStats
	if code := restAs(t, b, mint(t, "acme", token.ScopeAdmin), "/v1/codeq/admin/queues/"+cmd, &s); code != 200 {
		t.Fatalf("queue stats: HTTP %d", code)
	}
	return s
}
