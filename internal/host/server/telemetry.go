package server

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/status"
	"github.com/sous-run/sous/internal/host/telemetry"
	sdktel "github.com/sous-run/sous/sdk/telemetry"
)

// observability is what a host exposes to operators: /metrics, status, traces.
type observability struct {
	reg       *prometheus.Registry // this host's collectors (plugins, queue, store)
	gatherer  prometheus.Gatherer  // everything /metrics serves beyond the API's registry
	self      *status.Self
	metricsLn net.Listener // telemetry.metrics_addr, when set
}

// startTelemetry starts trace export (telemetry.otlp.endpoint), registers the
// plugin collector and opens telemetry.metrics_addr. Call it once the plugins run.
func (h *Host) startTelemetry(ctx context.Context) error {
	cfg := h.Cfg
	shutdown, err := sdktel.Setup(ctx, "sous-"+cfg.Role, cfg.Telemetry.OTLP.Endpoint)
	if err != nil {
		return err
	}
	h.closers = append(h.closers, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = shutdown(sctx)
	})
	telemetry.Init(cfg.Role, h.commands())
	o := &h.obs
	o.reg = prometheus.NewRegistry()
	o.reg.MustRegister(telemetry.PluginCollector{Status: h.Plugins.Status})
	o.gatherer = telemetry.Gatherer(o.reg, h.Plugins)
	o.self = &status.Self{ID: workerID(cfg), Role: cfg.Role, StartedAt: time.Now(), Plugins: h.Plugins.Status}
	if cfg.Role != "control" {
		o.self.Concurrency = cfg.Worker.Concurrency
	}
	if cfg.Telemetry.MetricsAddr != "" {
		ln, err := net.Listen("tcp", cfg.Telemetry.MetricsAddr)
		if err != nil {
			return fmt.Errorf("listen on telemetry.metrics_addr %s: %w", cfg.Telemetry.MetricsAddr, err)
		}
		o.metricsLn = ln
		h.MetricsAddr = ln.Addr().String()
	}
	return nil
}

// commands are the queues of the configured runtimes.
func (h *Host) commands() []string {
	var out []string
	for _, r := range h.Cfg.Plugins.Executor.Drivers {
		out = append(out, invocation.Command(r))
	}
	return out
}

// queues are the commands whose counts Stats reports: one per deployed function of
// every tenant, then the runtime queues of earlier releases.
func (h *Host) queues() []string {
	var out []string
	if fns, err := h.Store.DeployedFunctions(); err == nil {
		for _, f := range fns {
			out = append(out, invocation.FunctionCommand(f.Tenant, f.Name))
		}
	} else {
		h.Log.Warn("list deployed functions for queue stats", "error", err)
	}
	return append(out, h.commands()...)
}

// mountStatus adds the control role's collectors and admin endpoints.
func (h *Host) mountStatus() {
	o := &h.obs
	o.reg.MustRegister(telemetry.QueueCollector{Msg: h.Plugins.Messaging(), Commands: h.queues},
		telemetry.StoreCollector{Size: h.Store.SizeBytes})
	svc := &status.Service{Self: o.self, Board: status.NewBoard(h.Cfg.Telemetry.Heartbeat()), Msg: h.Plugins.Messaging(), Commands: h.queues}
	svc.Mount(h.API)
}

// runTelemetry serves telemetry.metrics_addr and, on a worker-only process, beats to
// the control role, until ctx ends.
func (h *Host) runTelemetry(ctx context.Context, goRun func(func() error)) {
	o := &h.obs
	if h.Worker != nil {
		o.self.Running = h.Worker.Running
	}
	if o.metricsLn != nil {
		goRun(func() error { return telemetry.ServeMetrics(ctx, o.metricsLn, o.gatherer) })
	}
	if h.Cfg.Role == "worker" {
		c := client.New(h.Cfg.Worker.ControlURL, h.Cfg.Worker.Token)
		goRun(func() error {
			status.Beat(ctx, c, h.Cfg.Telemetry.Heartbeat(), o.self, h.Log.Named("status"))
			return nil
		})
	}
}
