package plugins

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/sous-run/sous/examples/plugins/events-memory/memlog"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
	basepb "github.com/sous-run/sous/sdk/proto/base"
)

// rawLoopback serves the events-memory store (Base + Events) from a plain gRPC server
// in this process on 127.0.0.1, with no TLS: the floor a plugin call is compared to.
func rawLoopback(b *testing.B) *grpc.ClientConn {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := grpc.NewServer()
	if err := (sdk.Plugin{Events: memlog.New(nil)}).Register(srv); err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	b.Cleanup(srv.Stop)
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cc.Close() })
	if _, err := basepb.NewBaseClient(cc).Configure(context.Background(), &basepb.ConfigureRequest{ConfigJson: []byte("{}")}); err != nil {
		b.Fatal(err)
	}
	return cc
}

// benchPlugin starts the events-memory example plugin through the manager.
func benchPlugin(b *testing.B) (*Manager, *instance) {
	m := start(b, load(b, memoryEvents(b, pluginDir(b, "messaging-fake"), exampleEvents(b))))
	return m, m.all[1]
}

// invSeq numbers benchmark invocations so -count > 1 never reuses a finished one.
var invSeq atomic.Int64

// variant is one way of doing the benchmark's operation.
type variant struct {
	name string
	op   func() error
}

// paired runs every variant once per iteration, in turn, so they share the machine's
// load, and reports each one's ns/op and its ratio to the first (the raw floor).
func paired(b *testing.B, vs ...variant) {
	total := make([]time.Duration, len(vs))
	n := 0
	for b.Loop() {
		for k, v := range vs {
			t0 := time.Now()
			if err := v.op(); err != nil {
				b.Fatalf("%s: %v", v.name, err)
			}
			total[k] += time.Since(t0)
		}
		n++
	}
	for k, v := range vs {
		b.ReportMetric(float64(total[k].Nanoseconds())/float64(n), v.name+"_ns/op")
		if k > 0 {
			b.ReportMetric(float64(total[k])/float64(total[0]), v.name+"_x_raw")
		}
	}
}

// BenchmarkUnary: Base.Health over raw loopback gRPC vs into the plugin process
// (through the sdk.Conn directly, and through the manager's restart-surviving proxy).
func BenchmarkUnary(b *testing.B) {
	ctx := context.Background()
	raw := basepb.NewBaseClient(rawLoopback(b))
	_, inst := benchPlugin(b)
	c, _, err := inst.current()
	if err != nil {
		b.Fatal(err)
	}
	health := func(cl basepb.BaseClient) func() error {
		return func() error {
			_, err := cl.Health(ctx, &basepb.HealthRequest{})
			return err
		}
	}
	paired(b, variant{"raw", health(raw)}, variant{"plugin", health(c.Base)},
		variant{"plugin_proxy", health(basepb.NewBaseClient(&proxy{i: inst}))})
}

// BenchmarkStreamedEvent: Publish one done envelope, then Read it back as a stream
// that ends after done; the same store in-process over raw loopback gRPC vs in the
// events-memory plugin through the manager.
func BenchmarkStreamedEvent(b *testing.B) {
	ctx := context.Background()
	raw := sdk.NewEventsClient(rawLoopback(b))
	m, _ := benchPlugin(b)
	done, err := envelope.Marshal(envelope.Done())
	if err != nil {
		b.Fatal(err)
	}
	roundTrip := func(name string, cl sdk.EventLog) func() error {
		return func() error {
			inv := fmt.Sprintf("%s-%d", name, invSeq.Add(1))
			if _, err := cl.Publish(ctx, "t", inv, done); err != nil {
				return err
			}
			n := 0
			if err := cl.Read(ctx, "t", inv, "", true, func(sdk.Event) error { n++; return nil }); err != nil {
				return err
			}
			if n != 1 {
				return fmt.Errorf("read should end after done, got %d events", n)
			}
			return nil
		}
	}
	paired(b, variant{"raw", roundTrip("raw", raw)}, variant{"plugin_proxy", roundTrip("plugin", m.Events())})
}
