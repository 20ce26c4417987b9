// Package broker is an embedded codeQ-compatible broker: codeQ's producer and worker gRPC
// streams and its result/queue REST reads, backed by Pebble so a restart loses no accepted
// or leased task. It has leases with a reaper, Nack backoff, dead letters at max attempts,
// results with retention and JWT checks (HS256 shared key; RS256 public key or JWKS).
package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/producerpb"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/workerpb"
)

// Broker is a running embedded broker.
type Broker struct {
	cfg      Config
	st       *store
	q        *queue
	producer *grpc.Server
	worker   *grpc.Server
	http     *http.Server
	stop     chan struct{}
	wg       sync.WaitGroup
	// In-memory streams for the driver in this process (see MemConn): ctx ends with
	// Close, memWG counts their handlers.
	mem      map[string]memMethod
	ctx      context.Context
	cancel   context.CancelFunc
	memMu    sync.Mutex
	memWG    sync.WaitGroup
	once     sync.Once
	closeErr error
	// Addresses the listeners really bound (useful with port 0).
	ProducerAddr, WorkerAddr, HTTPAddr string
}

// Start opens the store, recovers its tasks and starts the three listeners.
func Start(cfg Config) (*Broker, error) {
	cfg.defaults()
	if cfg.DataDir == "" {
		return nil, errors.New("codeq broker: data dir is required")
	}
	if cfg.Verifier == nil {
		return nil, errors.New("codeq broker: a token verifier is required")
	}
	st, err := openStore(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("codeq broker: %w", err)
	}
	q, err := newQueue(cfg, st)
	if err != nil {
		_ = st.close()
		return nil, fmt.Errorf("codeq broker: recover tasks: %w", err)
	}
	b := &Broker{cfg: cfg, st: st, q: q, stop: make(chan struct{})}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.mem = b.memMethods()
	pl, err := net.Listen("tcp", cfg.ProducerAddr)
	if err != nil {
		_ = st.close()
		return nil, fmt.Errorf("codeq broker: producer listener %s: %w", cfg.ProducerAddr, err)
	}
	wl, err := net.Listen("tcp", cfg.WorkerAddr)
	if err != nil {
		pl.Close()
		_ = st.close()
		return nil, fmt.Errorf("codeq broker: worker listener %s: %w", cfg.WorkerAddr, err)
	}
	hl, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		pl.Close()
		wl.Close()
		_ = st.close()
		return nil, fmt.Errorf("codeq broker: http listener %s: %w", cfg.HTTPAddr, err)
	}
	b.ProducerAddr, b.WorkerAddr, b.HTTPAddr = pl.Addr().String(), wl.Addr().String(), hl.Addr().String()
	b.producer, b.worker = grpc.NewServer(), grpc.NewServer()
	producerpb.RegisterProducerStreamServer(b.producer, &producerServer{b: b})
	workerpb.RegisterWorkerStreamServer(b.worker, &workerServer{b: b})
	b.http = &http.Server{Handler: b.routes(), ReadHeaderTimeout: 10 * time.Second}
	b.wg.Add(4)
	go func() { defer b.wg.Done(); _ = b.producer.Serve(pl) }()
	go func() { defer b.wg.Done(); _ = b.worker.Serve(wl) }()
	go func() { defer b.wg.Done(); _ = b.http.Serve(hl) }()
	go func() { defer b.wg.Done(); b.reapLoop() }()
	return b, nil
}

func (b *Broker) reapLoop() {
	t := time.NewTicker(b.cfg.ReapInterval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.q.reap()
		}
	}
}

// Close stops the listeners and the reaper and closes the store. Leases stay stored.
func (b *Broker) Close() error {
	b.once.Do(func() {
		close(b.stop)
		b.producer.Stop()
		b.worker.Stop()
		b.memMu.Lock()
		b.cancel()
		b.memMu.Unlock()
		b.memWG.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = b.http.Shutdown(ctx)
		b.wg.Wait()
		b.closeErr = b.st.close()
	})
	return b.closeErr
}
