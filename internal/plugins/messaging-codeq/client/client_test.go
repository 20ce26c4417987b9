package client_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/broker"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/client"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/token"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/producerpb"
)

var key = []byte("client-test-key")

func startBroker(t *testing.T, dir string, cfg broker.Config) *broker.Broker {
	t.Helper()
	v, err := token.NewVerifier(token.VerifierConfig{HS256Key: key})
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir, cfg.Verifier, cfg.BackoffBase = dir, v, 50*time.Millisecond
	def := func(s *string) {
		if *s == "" {
			*s = "127.0.0.1:0"
		}
	}
	def(&cfg.ProducerAddr)
	def(&cfg.WorkerAddr)
	def(&cfg.HTTPAddr)
	b, err := broker.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func minter(scope string) client.TokenFunc {
	return func() (string, error) { return token.Mint(key, "acme", "client-test", scope, time.Hour) }
}

// Many concurrent creates are pipelined and batched on one stream, each acked with its
// own id; the worker claims exactly what it asked for; a broker restart in the middle
// is survived by both streams without losing a create.
func TestStreamsPipelineAndReconnect(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, dir, broker.Config{})
	addrs := broker.Config{ProducerAddr: b.ProducerAddr, WorkerAddr: b.WorkerAddr, HTTPAddr: b.HTTPAddr}
	log := hclog.NewNullLogger()
	pc, _ := client.Dial(b.ProducerAddr, false)
	wc, _ := client.Dial(b.WorkerAddr, false)
	defer pc.Close()
	defer wc.Close()
	p := client.NewProducer(pc, minter(token.ScopeProduce), log)
	defer p.Close()
	w := client.NewWorker(wc, minter(token.WorkerScopes), client.WorkerOptions{WorkerID: "w1", LeaseSeconds: 30}, log)
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var mu sync.Mutex
	byKey := map[string]string{}
	create := func(from, n int) map[string]bool {
		ids := map[string]bool{}
		var wg sync.WaitGroup
		for i := from; i < from+n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := fmt.Sprintf("t%d", i)
				c, err := p.Create(ctx, &producerpb.CreateTask{Command: "c", IdempotencyKey: key})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ids[c.ID] = true
				byKey[key] = c.ID
				mu.Unlock()
			}()
		}
		wg.Wait()
		return ids
	}
	ids := create(0, 100)
	if len(ids) != 100 {
		t.Fatalf("%d distinct ids for 100 creates", len(ids))
	}
	sub := w.Subscribe([]string{"c"}, 30)
	completeN := func(n int) {
		for range n {
			tk, err := sub.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Complete(ctx, tk.Id, []byte(`{"ok":true}`)); err != nil {
				t.Fatal(err)
			}
		}
	}
	sub.Credit(40)
	completeN(40)
	short, stop := context.WithTimeout(ctx, 300*time.Millisecond)
	if tk, err := sub.Next(short); err == nil {
		t.Fatalf("delivery beyond 40 credits: %v", tk)
	}
	stop()

	// Restart the broker on the same addresses while creates are in flight.
	_ = b.Close()
	more := make(chan map[string]bool)
	go func() { more <- create(100, 50) }()
	b = startBroker(t, dir, addrs)
	for id := range <-more {
		ids[id] = true
	}
	if len(ids) != 150 {
		t.Fatalf("%d tasks after the restart, want 150", len(ids))
	}
	sub.Credit(110)
	completeN(110)
	rest := client.NewREST(b.HTTPAddr, minter(token.ScopeProduce), minter(token.ScopeAdmin))
	s, err := rest.Queue(ctx, "c")
	if err != nil || *s != (client.QueueStats{Command: "c"}) {
		t.Fatalf("queue after all completed: %+v %v", s, err)
	}
	if _, r, err := rest.Result(ctx, byKey["t120"]); err != nil || r.Status != "COMPLETED" {
		t.Fatalf("result of t120: %+v %v", r, err)
	}
}
