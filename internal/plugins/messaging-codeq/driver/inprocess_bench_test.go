package driver_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/driver"
	"github.com/sous-run/sous/sdk"
)

// BenchmarkDriverInProcess measures Enqueue → delivery → Ack on the driver and its
// embedded broker in this process, without the plugin's gRPC server in front: what the
// codeq code itself costs. cpu-µs/op is this process's CPU time (user + system, fsyncs
// included) per round trip.
//
//	go test -run '^$' -bench DriverInProcess ./internal/plugins/messaging-codeq/driver/
func BenchmarkDriverInProcess(b *testing.B) {
	for _, inflight := range []int{1, 32} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) {
			d := driver.New(hclog.NewNullLogger())
			if err := d.Configure(context.Background(), sdk.Config{JSON: []byte(embedded(freeAddrs(b), nil)), HostDataDir: b.TempDir()}); err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			p := newInProcessPipeline(b, d, inflight)
			defer p.stop()
			var seq atomic.Int64
			cpu0 := cpuTime()
			run(b, inflight, func(ctx context.Context) error {
				return p.roundTrip(ctx, fmt.Sprintf("bench-%d", seq.Add(1)))
			})
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// cpuTime is this process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// inProcessPipeline is one consumer whose deliveries inflight goroutines ack.
type inProcessPipeline struct {
	d    *driver.Driver
	k    sdk.Consumer
	done chan struct{}
	acks
}

func newInProcessPipeline(b *testing.B, d *driver.Driver, inflight int) *inProcessPipeline {
	k, err := d.Consume(context.Background(), sdk.Subscription{Commands: []string{cmd}, Lease: 30 * time.Second, WorkerID: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	p := &inProcessPipeline{d: d, k: k, done: make(chan struct{}), acks: acks{waits: map[string]chan error{}}}
	deliveries := make(chan sdk.Delivery, inflight)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-p.done
		cancel()
	}()
	go func() {
		defer close(deliveries)
		for {
			ds, err := k.Next(ctx, inflight)
			if err != nil {
				return
			}
			for _, dl := range ds {
				deliveries <- dl
			}
		}
	}()
	for range inflight {
		go func() {
			for dl := range deliveries {
				p.acked(dl.Task.ID, d.Ack(context.Background(), dl.Lease, []byte(`{"ok":true}`)))
			}
		}()
	}
	return p
}

func (p *inProcessPipeline) stop() {
	close(p.done)
	_ = p.k.Close()
}

// roundTrip enqueues task id and waits until its Ack returned.
func (p *inProcessPipeline) roundTrip(ctx context.Context, id string) error {
	return p.await(ctx, id, func() error {
		_, err := p.d.Enqueue(ctx, sdk.Task{ID: id, Tenant: "acme", Command: cmd, IdempotencyKey: id,
			Payload: []byte(`{"invocation_id":"` + id + `","function":"hello","input":{"name":"bench"},"deadline_ms":30000}`)})
		return err
	})
}
