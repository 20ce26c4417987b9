package harness

import (
	"context"
	"encoding/json"
	"errors"
	"io"
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
// (direct), the same Run over a gRPC server-streaming Run call on a Unix socket (one
// stream per invocation, what hosts did before Session), over the SDK's client shim
// (sdk.NewExecutorClient: every invocation on the executor's Session stream), and
// over a bare long-lived bidirectional stream carrying one request message in and
// the terminal envelope out (the floor of any session). Client and server share this
// process, so the cross-process wake-ups of the real plugin are not in these figures.
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
	runs := executorpb.NewExecutorClient(cc)
	stream := func() {
		s, err := runs.Run(context.Background(), wireReq)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := s.Recv(); errors.Is(err, io.EOF) {
				return
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
	shim := func() {
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
	calls := []func(){direct, stream, shim, session}
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
	for i, name := range []string{"direct", "run-stream", "session-shim", "bare-session"} {
		b.ReportMetric(float64(median(lat[i]).Microseconds()), name+"-p50-us")
	}
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
