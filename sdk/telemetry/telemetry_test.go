package telemetry

import (
	"context"
	"net"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// TestMetricsServiceRoundTrip serves Registry over a real gRPC connection and reads
// it back as the host does.
func TestMetricsServiceRoundTrip(t *testing.T) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sous_test_things_total", Help: "Things."}, []string{"kind"})
	MustRegister(c)
	MustRegister(c) // registering twice is not an error
	c.WithLabelValues("a").Add(3)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(ServerOptions()...)
	RegisterMetricsService(srv)
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fams, err := FetchMetrics(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == "sous_test_things_total" {
			m := f.Metric[0]
			if m.Label[0].GetValue() != "a" || m.Counter.GetValue() != 3 {
				t.Fatalf("got %v", m)
			}
			return
		}
	}
	t.Fatalf("sous_test_things_total not among %d families", len(fams))
}

// TestTracingOffAddsNothing: with tracing off, a call about an invocation carries no
// extra metadata and no span is started.
func TestTracingOffAddsNothing(t *testing.T) {
	if Enabled() {
		t.Fatal("tracing on without Setup")
	}
	ctx := WithInvocation(context.Background(), "inv-1")
	if _, ok := metadata.FromOutgoingContext(Outgoing(ctx)); ok {
		t.Fatal("Outgoing added metadata with tracing off")
	}
	if Traceparent(ctx) != "" {
		t.Fatal("a traceparent with tracing off")
	}
	if _, span := serverSpan(metadata.NewIncomingContext(ctx, metadata.Pairs(invocationMD, "inv-1")), "/sous.executor.v1.Executor/Run"); span != nil {
		t.Fatal("a server span with tracing off")
	}
	if got := testing.AllocsPerRun(100, func() { _, _ = Start(ctx, "x", "inv-1", 0) }); got != 0 {
		t.Fatalf("Start allocates %v times with tracing off", got)
	}
}

func TestSpanName(t *testing.T) {
	for in, want := range map[string]string{
		"/sous.executor.v1.Executor/Run":       "executor.Run",
		"/sous.messaging.v1.Messaging/Enqueue": "messaging.Enqueue",
	} {
		if got := spanName(in); got != want {
			t.Errorf("spanName(%s) = %s, want %s", in, got, want)
		}
	}
}
