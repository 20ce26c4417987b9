package sdk

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"

	"github.com/sous-run/sous/sdk/telemetry"
)

// grpcServer is go-plugin's server with the telemetry interceptors: calls about an
// invocation continue the host's trace when tracing is on.
func grpcServer(opts []grpc.ServerOption) *grpc.Server {
	return grpc.NewServer(append(opts, telemetry.ServerOptions()...)...)
}

// startTelemetry registers the plugin's process metrics (relayed by the host as
// sous_plugin_process_*) and starts trace export when the host passed an OTLP
// endpoint; it returns the function that flushes the exporter.
func startTelemetry(log hclog.Logger) func() {
	telemetry.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{Namespace: "sous_plugin"}))
	shutdown, err := telemetry.Setup(context.Background(), filepath.Base(os.Args[0]), os.Getenv(telemetry.EndpointEnv))
	if err != nil {
		log.Warn("tracing off", "error", err)
		return func() {}
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = shutdown(ctx)
	}
}
