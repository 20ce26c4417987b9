package plugins

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/sous-run/sous/examples/plugins/events-memory/memlog"
	"github.com/sous-run/sous/sdk/envelope"
	basepb "github.com/sous-run/sous/sdk/proto/base"
	eventspb "github.com/sous-run/sous/sdk/proto/events"
)

// rawLoopback serves the events-memory store (Base + Events) from a plain gRPC server
// in this process on 127.0.0.1, with no TLS: the floor a plugin call is compared to.
func rawLoopback(b *testing.B) *grpc.ClientConn {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := grpc.NewServer()
	store := memlog.New(nil)
	basepb.RegisterBaseServer(srv, store)
	eventspb.RegisterEventsServer(srv, store)
	go func() { _ = srv.Serve(lis) }()
	b.Cleanup(srv.Stop)
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cc.Close() })
	return cc
}

// benchPlugin starts the events-memory example plugin through the manager.
func benchPlugin(b *testing.B) (*Manager, *instance) {
	m := start(b, load(b, memoryEvents(b, pluginDir(b, "messaging-fake"), exampleEvents(b))))
	return m, m.all[1]
}

// floorNs holds the ns/op of the floor sub-benchmark that ran last, per benchmark.
var floorNs = map[string]float64{}

// measure runs op b.N times; the "raw" sub-benchmark records the floor, the others
// report their ratio to it as x_raw.
func measure(b *testing.B, bench, variant string, op func(i int) error) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := op(i); err != nil {
			b.Fatal(err)
		}
	}
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	if variant == "raw" {
		floorNs[bench] = ns
	} else if f := floorNs[bench]; f > 0 {
		b.ReportMetric(ns/f, "x_raw")
	}
}

// BenchmarkUnary: Base.Health, raw loopback gRPC vs the plugin process (through the
// sdk.Conn directly, and through the manager's restart-surviving proxy).
func BenchmarkUnary(b *testing.B) {
	ctx := context.Background()
	raw := basepb.NewBaseClient(rawLoopback(b))
	_, inst := benchPlugin(b)
	c, _, err := inst.current()
	if err != nil {
		b.Fatal(err)
	}
	for _, v := range []struct {
		name string
		cl   basepb.BaseClient
	}{{"raw", raw}, {"plugin-conn", c.Base}, {"plugin-proxy", basepb.NewBaseClient(&proxy{i: inst})}} {
		b.Run(v.name, func(b *testing.B) {
			measure(b, "unary", v.name, func(int) error {
				_, err := v.cl.Health(ctx, &basepb.HealthRequest{})
				return err
			})
		})
	}
}

// BenchmarkStreamedEvent: Publish one done envelope, then Read it back as a stream
// that ends after done; the same store in-process over raw loopback gRPC vs in the
// events-memory plugin through the manager.
func BenchmarkStreamedEvent(b *testing.B) {
	ctx := context.Background()
	raw := eventspb.NewEventsClient(rawLoopback(b))
	m, _ := benchPlugin(b)
	done, err := envelope.Marshal(envelope.Done())
	if err != nil {
		b.Fatal(err)
	}
	for _, v := range []struct {
		name string
		cl   eventspb.EventsClient
	}{{"raw", raw}, {"plugin-proxy", m.Events()}} {
		b.Run(v.name, func(b *testing.B) {
			measure(b, "stream", v.name, func(i int) error {
				inv := fmt.Sprintf("%s-%d", v.name, i)
				if _, err := v.cl.Publish(ctx, &eventspb.PublishRequest{Tenant: "t", InvocationId: inv, Envelopes: [][]byte{done}}); err != nil {
					return err
				}
				rd, err := v.cl.Read(ctx, &eventspb.ReadRequest{Tenant: "t", InvocationId: inv})
				if err != nil {
					return err
				}
				if _, err := rd.Recv(); err != nil {
					return err
				}
				if _, err := rd.Recv(); err != io.EOF {
					return fmt.Errorf("read should end after done, got %v", err)
				}
				return nil
			})
		})
	}
}
