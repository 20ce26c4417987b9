package harness

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/sous-run/sous/sdk"
	executorpb "github.com/sous-run/sous/sdk/proto/executor"
)

// BenchmarkRunHop measures, interleaved in one run, what the host → plugin gRPC hop
// adds to a warm Run (the sandbox required): the plugin's Run called in process
// (direct), the same Run over a gRPC server-streaming call on a Unix socket as the
// host makes it today (one stream per invocation), and over one long-lived
// bidirectional stream carrying every invocation (a request message in, the
// envelopes out), the shape of a session RPC. Client and server share this process,
// so the cross-process wake-ups of the real plugin are not in these figures.
func BenchmarkRunHop(b *testing.B) {
	for _, rt := range []string{"bun", "python"} {
		b.Run(rt, func(b *testing.B) { benchRunHop(b, rt) })
	}
}

// sessionDesc is a bidirectional RPC serving invocations one after another.
var sessionDesc = grpc.StreamDesc{StreamName: "Session", ServerStreams: true, ClientStreams: true}

func benchRunHop(b *testing.B, name string) {
	rt, _, entry, src, _ := directRuntime(b, name)
	p := NewPlugin(rt, hclog.NewNullLogger())
	cfg, _ := json.Marshal(map[string]any{"sandbox": SandboxRequired, "cache_dir": b.TempDir()})
	ex := p
	spec := sdk.FunctionSpec{Runtime: name, Entry: entry, Files: map[string][]byte{entry: []byte(src)}, Function: "fx", Digest: "b0b0b0b0"}
	req := sdk.RunRequest{InvocationID: "bench", Digest: spec.Digest, Input: []byte(`{"name":"bench"}`), Tenant: "t", Function: "fx"}

	sock := filepath.Join(b.TempDir(), "plugin.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		b.Fatal(err)
	}
	srv := grpc.NewServer()
	if err := (sdk.Plugin{Executor: ex}).Register(srv); err != nil {
		b.Fatal(err)
	}
	srv.RegisterService(&grpc.ServiceDesc{ServiceName: "bench.Session", HandlerType: (*any)(nil),
		Streams: []grpc.StreamDesc{{StreamName: "Session", ServerStreams: true, ClientStreams: true,
			Handler: func(_ any, s grpc.ServerStream) error { return serveSession(ex, req, s) }}}}, struct{}{})
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	cc, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Close()
	client := sdk.NewExecutorClient(cc)
	// Configured through the served plugin, so its not-configured gate opens.
	if err := client.Configure(context.Background(), sdk.Config{JSON: cfg, HostDataDir: b.TempDir()}); err != nil {
		b.Fatal(err)
	}
	defer p.cur.pool.Close()
	if _, err := ex.Prepare(context.Background(), spec); err != nil {
		b.Fatal(err)
	}
	wireReq := &executorpb.RunRequest{InvocationId: req.InvocationID, Digest: req.Digest, InputJson: req.Input, Tenant: req.Tenant, Function: req.Function}
	sess, err := cc.NewStream(context.Background(), &sessionDesc, "/bench.Session/Session")
	if err != nil {
		b.Fatal(err)
	}

	direct := func() {
		if err := ex.Run(context.Background(), req, (&captureStream{}).emit); err != nil {
			b.Fatal(err)
		}
	}
	stream := func() {
		if err := client.Run(context.Background(), req, (&captureStream{}).emit); err != nil {
			b.Fatal(err)
		}
	}
	session := func() {
		if err := sess.SendMsg(wireReq); err != nil {
			b.Fatal(err)
		}
		var ev executorpb.RunEvent
		if err := sess.RecvMsg(&ev); err != nil {
			b.Fatal(err)
		}
	}
	calls := []func(){direct, stream, session}
	for range 50 {
		for _, c := range calls {
			c()
		}
	}
	lat := make([][]time.Duration, len(calls))
	b.ResetTimer()
	for range b.N {
		for i, c := range calls {
			t0 := time.Now()
			c()
			lat[i] = append(lat[i], time.Since(t0))
		}
	}
	b.StopTimer()
	d, s, x := median(lat[0]), median(lat[1]), median(lat[2])
	b.ReportMetric(float64(d.Microseconds()), "direct-p50-us")
	b.ReportMetric(float64(s.Microseconds()), "stream-per-run-p50-us")
	b.ReportMetric(float64(x.Microseconds()), "session-p50-us")
}

// serveSession runs run for each request message received on s (decoded, then
// replaced by the prepared request) and sends its terminal envelope back (the
// benchmark's function sends nothing else).
func serveSession(ex sdk.Executor, run sdk.RunRequest, s grpc.ServerStream) error {
	for {
		var req executorpb.RunRequest
		if err := s.RecvMsg(&req); err != nil {
			return nil
		}
		c := &captureStream{}
		if err := ex.Run(s.Context(), run, c.emit); err != nil {
			return err
		}
		if err := s.SendMsg(&executorpb.RunEvent{Envelope: c.last}); err != nil {
			return err
		}
	}
}
