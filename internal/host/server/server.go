// Package server assembles a host from its configuration: the plugin manager, the
// store, the API and the control and worker roles, for `sous serve` and `sous dev`.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/host/api"
	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/host/cluster"
	"github.com/sous-run/sous/internal/host/config"
	"github.com/sous-run/sous/internal/host/console"
	"github.com/sous-run/sous/internal/host/control"
	"github.com/sous-run/sous/internal/host/events"
	"github.com/sous-run/sous/internal/host/gcfloor"
	"github.com/sous-run/sous/internal/host/plugins"
	"github.com/sous-run/sous/internal/host/procs"
	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/internal/host/triggers/schedule"
	"github.com/sous-run/sous/internal/host/triggers/webhook"
	"github.com/sous-run/sous/internal/host/worker"
	"github.com/sous-run/sous/internal/rawio"
)

// Host is one running Sous host process.
type Host struct {
	Cfg     *config.Config
	Log     hclog.Logger
	Plugins *plugins.Manager
	Store   *store.Store        // nil for role worker
	Auth    *auth.Authenticator // nil for role worker
	API     *api.Server         // nil for role worker
	Control *control.Service    // nil for role worker
	Worker  *worker.Worker      // nil for role control
	Console *console.Console    // nil for role worker
	Cluster *cluster.Node       // nil without a cluster: block
	Addr    string              // the API's listening address, once started
	// MetricsAddr is telemetry.metrics_addr's listening address ("" when not set).
	MetricsAddr string

	obs observability

	// Webhooks and Scheduler are the triggers of the control role (nil for role worker).
	Webhooks  *webhook.Deliverer
	Scheduler *schedule.Scheduler

	events   events.Log
	embedded *events.Embedded
	ln       net.Listener
	closers  []func()
	lock     *dataLock
	procs    *procs.Governor // nil unless adaptive_procs
}

// New builds a host for cfg and launches its plugins. Call Run, then Close.
func New(ctx context.Context, cfg *config.Config, log hclog.Logger) (_ *Host, err error) {
	h := &Host{Cfg: cfg, Log: log}
	defer func() {
		if err != nil {
			h.Close()
		}
	}()
	role := cfg.Role
	if err := checkRole(cfg); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	if h.lock, err = lockDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	if cfg.AdaptiveProcs {
		h.procs = procs.New(runtime.GOMAXPROCS(0))
	}
	gcfloor.Raise(cfg.GCFloorMB)
	h.Plugins = plugins.New(cfg, log)
	h.closers = append(h.closers, h.Plugins.Close)
	if err := h.Plugins.Start(ctx); err != nil {
		return nil, fmt.Errorf("start plugins: %w", err)
	}
	if err := h.startTelemetry(ctx); err != nil {
		return nil, err
	}
	switch cfg.Plugins.Events.Driver {
	case "embedded":
		h.embedded = events.NewEmbedded(events.EmbeddedOptions{TTL: cfg.Invoke.EventsTTL, MaxBytes: cfg.Limits.MaxEmbeddedEventsBytes})
		h.closers = append(h.closers, h.embedded.Close)
		h.events = h.embedded
	case "none":
	default:
		h.events = h.Plugins.Events()
		if role == "all" { // this host's worker hands its runs' events to this host's followers
			tap := events.NewTap(h.events)
			h.closers = append(h.closers, tap.Close)
			h.events = tap
		}
	}
	lim := worker.OutputLimits{MaxResultBytes: cfg.Limits.MaxResultBytes, MaxLogBytes: cfg.Limits.MaxLogBytes}
	var runner *worker.Runner
	if role != "control" {
		runner = &worker.Runner{Executors: h.Plugins.Executor}
	}
	if role != "worker" {
		if err := h.openControl(runner, lim); err != nil {
			return nil, err
		}
		if cfg.Cluster.Enabled() {
			if err := h.openCluster(); err != nil {
				return nil, err
			}
		}
	}
	if role != "control" {
		var deployed worker.Deployed
		var changed func() <-chan struct{}
		if h.Store != nil {
			runner.Specs = worker.StoreSpecs{Store: h.Store, Limits: lim}
			deployed, changed = worker.StoreDeployed(h.Store), h.Store.FunctionsChanged
		} else {
			cl := client.New(cfg.Worker.ControlURL, cfg.Worker.Token)
			runner.Specs = &worker.HTTPSpecs{Client: cl, CacheDir: filepath.Join(cfg.DataDir, "bundles"), Limits: lim}
			deployed = cl.DeployedFunctions
		}
		h.Worker = worker.New(worker.Options{
			ID: workerID(cfg), Runtimes: cfg.Plugins.Executor.Drivers, Functions: cfg.Worker.Functions, Deployed: deployed, Changed: changed,
			Concurrency:  cfg.Worker.Concurrency,
			LeaseSeconds: cfg.Worker.LeaseSeconds, EventsTTL: cfg.Invoke.EventsTTL, MaxEventBytes: cfg.Limits.MaxEventBytes,
			Runs: h.procs.Lane(),
		}, h.Plugins.Messaging(), h.eventsOrDiscard(), runner, log)
	}
	return h, nil
}

// checkRole refuses topologies that cannot work, saying what to change.
func checkRole(cfg *config.Config) error {
	if cfg.Role != "worker" {
		return nil
	}
	if cfg.Plugins.Events.Driver == "embedded" {
		return errors.New("role worker cannot use plugins.events.driver embedded (it lives inside one host process); " +
			"use a shared events driver such as redisstream, or run role all")
	}
	if cfg.Worker.ControlURL == "" {
		return errors.New("role worker needs worker.control_url (the control role's API, where bundles are fetched) and worker.token (a token with the worker scope)")
	}
	return nil
}

func (h *Host) openControl(runner *worker.Runner, lim worker.OutputLimits) error {
	cfg := h.Cfg
	st, err := store.Open(filepath.Join(cfg.DataDir, "state"))
	if err != nil {
		return err
	}
	h.Store = st
	st.SetIdempotencyTTL(cfg.Invoke.IdempotencyTTL)
	au, err := auth.New(auth.Options{Algorithm: cfg.Auth.Algorithm, HS256Key: cfg.Auth.HS256Key, KeyFile: cfg.Auth.KeyFile,
		PublicKeyFile: cfg.Auth.PublicKeyFile, DataDir: cfg.DataDir, KeySource: "auth.hs256_key (" + cfg.Source("auth.hs256_key") + ")"})
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	h.Auth = au
	h.API = api.New(api.Options{
		Addr: cfg.HTTP.Addr, MaxBodyBytes: cfg.HTTP.MaxBodyBytes, MaxBundleBytes: cfg.Limits.MaxBundleBytes,
		MaxInputBytes: cfg.Limits.MaxInputBytes, MaxInputDepth: cfg.Limits.MaxInputDepth,
		MaxFiles: cfg.Limits.MaxFiles, DefaultTimeoutMS: int(cfg.Limits.DefaultTimeoutMs), MaxTimeoutMS: int(cfg.Limits.MaxTimeoutMs),
		DefaultMemoryMB: cfg.Limits.DefaultMemoryMB, MaxMemoryMB: cfg.Limits.MaxMemoryMB, Runtimes: cfg.Plugins.Executor.Drivers, Ready: h.Plugins.Ready,
		Metrics: h.obs.gatherer, Calls: h.procs.Lane(),
	}, st, au, h.Log)
	h.API.SetSourceCheck(sourceChecker(cfg, h.Log).Check)
	h.mountStatus()
	policy, err := webhook.ParsePolicy(cfg.Webhooks.AllowCIDRs)
	if err != nil {
		return err
	}
	h.Webhooks = webhook.New(webhook.Options{Policy: policy, Timeout: cfg.Webhooks.Timeout, MaxAge: cfg.Webhooks.MaxAge,
		BackoffBase: cfg.Webhooks.BackoffBase, BackoffMax: cfg.Webhooks.BackoffMax, MaxBodyBytes: cfg.Webhooks.MaxBodyBytes}, st, h.Log)
	if h.events == nil && runner == nil {
		return errors.New("role control without an events driver cannot run invocations inline; set plugins.events.driver (e.g. redisstream) or run role all")
	}
	h.Control = control.New(control.Options{
		IdleTimeout: cfg.Invoke.IdleTimeout, TotalTimeout: cfg.Invoke.TotalTimeout, ReaperInterval: cfg.Invoke.ReaperInterval,
		StaleAfter: cfg.Invoke.StaleAfter, LostAfter: cfg.Invoke.LostAfter, MaxAttempts: cfg.Worker.MaxAttempts,
		FallbackInline: cfg.Plugins.Events.Fallback == "inline", EventsHealth: h.eventsHealth, OnFinal: h.Webhooks.Notify,
	}, st, h.Plugins.Messaging(), h.events, runner, h.Log)
	h.API.MountInvocations(h.Control)
	h.Scheduler = schedule.New(st, h.Control, h.Log)
	h.API.MountTriggers(api.Triggers{Policy: policy, Wake: h.Scheduler.Wake})
	h.mountAdmin()
	h.mountCallers()
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listen on http.addr %s: %w", cfg.HTTP.Addr, err)
	}
	h.ln = rawio.Listen(ln) // requests and responses skip the runtime's monitor (see rawio)
	h.Addr = ln.Addr().String()
	if err := h.lock.write(Holder{PID: os.Getpid(), API: h.Addr}); err != nil {
		return err
	}
	return client.WriteAddr(cfg.DataDir, h.Addr)
}

// eventsHealth reports whether the events plugin answers Health (nil for host drivers).
func (h *Host) eventsHealth(ctx context.Context) error {
	for _, st := range h.Plugins.Status(ctx) {
		if st.Kind == "events" && !st.Healthy {
			return fmt.Errorf("events driver %s: %s", st.Driver, st.Reason)
		}
	}
	return nil
}

// eventsOrDiscard is the log workers publish to: the configured one, or a log that
// keeps nothing when there is none (results still reach the record through messaging).
func (h *Host) eventsOrDiscard() events.Log {
	if h.events != nil {
		return h.events
	}
	return events.Discard{}
}

// Run serves until ctx ends: the API, the reaper and the worker.
func (h *Host) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	h.runTelemetry(ctx, func(fn func() error) {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- fn() }()
	})
	if h.API != nil {
		wg.Add(4)
		go func() { defer wg.Done(); errs <- h.API.Serve(ctx, h.ln) }()
		go func() { defer wg.Done(); h.leaderOnly(ctx, h.Control.Reap) }()
		go func() { defer wg.Done(); h.leaderOnly(ctx, h.Webhooks.Run) }()
		go func() { defer wg.Done(); h.leaderOnly(ctx, h.Scheduler.Run) }()
	}
	if h.Worker != nil {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- h.Worker.Run(ctx) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); h.procs.Run(ctx) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
		cancel()
	}
	wg.Wait()
	return err
}

// Close stops the control role's background work, then the plugins, and closes the
// store last (its writers must be gone first).
func (h *Host) Close() {
	if h.Control != nil {
		h.Control.Close()
	}
	for i := len(h.closers) - 1; i >= 0; i-- {
		h.closers[i]()
	}
	h.closers = nil
	if h.Store != nil {
		_ = h.Store.Close()
		h.Store = nil
	}
	h.lock.release() // last: the data dir is free only once nothing of this host uses it
	h.lock = nil
}

func workerID(cfg *config.Config) string {
	if cfg.Worker.ID != "" {
		return cfg.Worker.ID
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", strings.SplitN(host, ".", 2)[0], os.Getpid())
}
