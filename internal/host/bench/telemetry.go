package bench

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/telemetry"
	sdktel "github.com/sous-run/sous/sdk/telemetry"
)

// telemetryCost measures what the host's telemetry hooks add to one invocation (the
// submit span, the worker's run, the trace context on six plugin calls, the
// counters and histograms), averaged over n invocations: with tracing off (the
// default) and on (spans made and handed to an OTLP exporter whose collector is
// absent, so export itself costs nothing here).
func telemetryCost(n int) (off, on time.Duration, err error) {
	off = hooksPerInvocation(n)
	ln, err := net.Listen("tcp", "127.0.0.1:0") // a port nobody answers on once closed
	if err != nil {
		return 0, 0, err
	}
	addr := ln.Addr().String()
	ln.Close()
	shutdown, err := sdktel.Setup(context.Background(), "sous-bench", addr)
	if err != nil {
		return 0, 0, fmt.Errorf("tracing on: %w", err)
	}
	on = hooksPerInvocation(n)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = shutdown(ctx)
	return off, on, nil
}

func hooksPerInvocation(n int) time.Duration {
	t := invocation.Task{InvocationID: "0000000000000000bench", Tenant: "default", Function: "bench", Runtime: "bun", Version: 1}
	start := time.Now()
	for range n {
		t.EnqueuedAtMS = time.Now().UnixMilli()
		ctx, span := telemetry.StartSubmit(context.Background(), &t)
		telemetry.InvocationStarted(t.Runtime)
		_ = sdktel.Outgoing(ctx) // enqueue
		span.End()
		rctx, run := telemetry.StartRun(context.Background(), &t, 1)
		for range 5 { // run, publishes, ack
			_ = sdktel.Outgoing(rctx)
		}
		telemetry.ObservePublish(time.Now(), t.Runtime, nil)
		run.Ran()
		run.End()
		telemetry.InvocationFinished(t.Runtime, string(invocation.StatusSucceeded), "")
	}
	return time.Since(start) / time.Duration(n)
}
