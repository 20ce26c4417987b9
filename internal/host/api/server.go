// Package api is the host's HTTP API: the server skeleton (routing with
// scopes, request ids, JSON errors, body limits, metrics) and the function,
// bundle and health endpoints. Other packages mount more routes with
// Server.Route and reuse WriteJSON, WriteError, DecodeJSON and StoreError.
package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/control"
	"github.com/sous-run/sous/internal/host/procs"
	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/sdk/limits"
)

// Options are the API's settings (config keys in parentheses). Zero values take the defaults.
type Options struct {
	Addr             string                          // http.addr (default 127.0.0.1:8080)
	MaxBodyBytes     int64                           // http.max_body_bytes (default 16 MiB)
	MaxInputBytes    int64                           // limits.max_input_bytes: an invocation's input (default 1 MiB)
	MaxInputDepth    int                             // limits.max_input_depth: nesting of the input (default 64)
	MaxBundleBytes   int64                           // limits.max_bundle_bytes: decoded files in total (default 10 MiB)
	MaxFiles         int                             // limits.max_files (default 1000)
	DefaultTimeoutMS int                             // limits.default_timeout_ms (default: sdk/limits)
	MaxTimeoutMS     int                             // limits.max_timeout_ms (default: sdk/limits)
	DefaultMemoryMB  int                             // limits.default_memory_mb (default: sdk/limits)
	MaxMemoryMB      int                             // limits.max_memory_mb (default: sdk/limits)
	Runtimes         []string                        // runtimes a deploy may name (default bun, python)
	Ready            func(ctx context.Context) error // /readyz check (e.g. plugins healthy); nil = always ready
	Metrics          prometheus.Gatherer             // more families for /metrics (host telemetry, plugins); nil = none
	Calls            *procs.Lane                     // counts the requests in flight (nil counts none)
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8080"
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 16 << 20
	}
	if o.MaxInputBytes <= 0 {
		o.MaxInputBytes = 1 << 20
	}
	def(&o.MaxInputDepth, 64)
	if o.MaxBundleBytes <= 0 {
		o.MaxBundleBytes = 10 << 20
	}
	def(&o.MaxFiles, 1000)
	def(&o.DefaultTimeoutMS, limits.DefaultTimeoutMS)
	def(&o.MaxTimeoutMS, limits.MaxTimeoutMS)
	def(&o.DefaultMemoryMB, limits.DefaultMemoryMB)
	def(&o.MaxMemoryMB, limits.MaxMemoryMB)
	if len(o.Runtimes) == 0 {
		o.Runtimes = []string{"bun", "python"}
	}
}

// Server is the HTTP API of one host.
type Server struct {
	opts        Options
	store       *store.Store
	auth        *auth.Authenticator
	log         hclog.Logger
	mux         *http.ServeMux
	reg         *prometheus.Registry
	metrics     *metrics
	ready       atomic.Pointer[func(ctx context.Context) error]
	readyDetail atomic.Pointer[func() map[string]string]
	control     *control.Service // set by MountInvocations
	check       atomic.Pointer[SourceCheck]
	home        atomic.Pointer[string] // where GET / sends a browser (the console), when set

	triggers *Triggers                       // set by MountTriggers
	front    func(http.Handler) http.Handler // set by SetFront (cluster mode)
}

// SetFront wraps the routes in front (before Serve): cluster mode forwards writes
// to the leader there. Request ids, panic recovery and the body limit stay outside it.
func (s *Server) SetFront(front func(http.Handler) http.Handler) { s.front = front }

// New builds the server and mounts the function, bundle, health and metrics routes.
func New(opts Options, st *store.Store, au *auth.Authenticator, log hclog.Logger) *Server {
	opts.defaults()
	if log == nil {
		log = hclog.NewNullLogger()
	}
	s := &Server{opts: opts, store: st, auth: au, log: log, mux: http.NewServeMux(), reg: prometheus.NewRegistry()}
	s.metrics = newMetrics(s.reg)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, http.StatusNotFound, "not_found", "no route for "+r.Method+" "+r.URL.Path)
	})
	s.routeFunctions()
	s.routeHealth()
	s.routeIndex()
	return s
}

// Options returns the effective options (defaults filled in).
func (s *Server) Options() Options { return s.opts }

// Store returns the state store the server uses.
func (s *Server) Store() *store.Store { return s.store }

// Mux is the underlying ServeMux; prefer Route, which adds auth and metrics.
func (s *Server) Mux() *http.ServeMux { return s.mux }

// Registry is the Prometheus registry /metrics serves; register more collectors on it.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Handler is the complete HTTP handler: request ids, panic recovery and the body limit around the routes.
func (s *Server) Handler() http.Handler {
	var routes http.Handler = s.mux
	if s.front != nil {
		routes = s.front(routes)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = withRequestID(w, r)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic in handler", "path", r.URL.Path, "panic", v, "request_id", RequestID(r.Context()))
				WriteError(w, r, http.StatusInternalServerError, "internal", "internal error; see the host log")
			}
		}()
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		defer s.opts.Calls.Begin()()
		routes.ServeHTTP(w, r)
	})
}

// Serve serves the API on ln until ctx is cancelled, then shuts down
// gracefully (in-flight requests get up to 10 s).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := srv.Shutdown(sctx)
		if err != nil { // streams still open after the grace period: cut them
			_ = srv.Close()
		}
		if e := <-done; !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
		return err
	}
}
