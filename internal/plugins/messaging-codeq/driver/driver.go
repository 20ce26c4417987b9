// Package driver is the Sous messaging driver for codeQ: it serves the Sous Base and
// Messaging services over codeQ's producer and worker streams and REST reads, and can
// start the embedded codeQ-compatible broker in-process.
package driver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/broker"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/client"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/token"
	"github.com/sous-run/sous/sdk"
)

// Version is the plugin's own version.
const Version = "0.1.0"

// Driver is sdk.Messaging over codeQ.
type Driver struct {
	log hclog.Logger

	mu       sync.Mutex
	cfg      *Config
	broker   *broker.Broker
	pconn    conn
	wconn    conn
	producer *client.Producer
	worker   *client.Worker
	rest     *client.REST
	seen     map[string]bool // commands enqueued or subscribed (for Stats with no commands)
	ids      idMap
	// namesByID is set once the broker named a task with the id the driver sent (the
	// embedded broker does; codeQ does not): an unknown id is then truly not found.
	namesByID atomic.Bool
}

// New returns an unconfigured driver.
func New(log hclog.Logger) *Driver {
	return &Driver{log: log, seen: map[string]bool{}}
}

// Info describes the plugin.
func (d *Driver) Info() sdk.Info {
	return sdk.Info{Kind: sdk.KindMessaging, Driver: "codeq", Version: Version,
		Description: "codeQ producer/worker streams; optional embedded codeQ-compatible broker (Pebble)"}
}

// Configure parses the config, starts the embedded broker when asked and opens the
// producer stream (the worker stream opens on the first Consume).
func (d *Driver) Configure(ctx context.Context, c sdk.Config) error {
	cfg, err := ParseConfig(c.JSON, c.HostDataDir)
	if err != nil {
		return sdk.WithKind(sdk.ErrInvalid, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cfg != nil {
		return sdk.Errorf(sdk.ErrRefused, "codeq driver is already configured; restart the plugin to change its config")
	}
	if cfg.Embedded {
		b, err := startBroker(cfg)
		if err != nil {
			return sdk.WithKind(sdk.ErrInvalid, err)
		}
		d.broker = b
		d.namesByID.Store(true) // the embedded broker keeps the ids the driver sends
		cfg.ProducerAddr, cfg.WorkerAddr, cfg.HTTPAddr = b.ProducerAddr, b.WorkerAddr, b.HTTPAddr
	}
	if d.pconn, err = d.dial(cfg.ProducerAddr, cfg.TLS); err != nil {
		return sdk.WithKind(sdk.ErrInvalid, err)
	}
	ptok := tokenFunc(cfg, cfg.ProducerToken, "producer", token.ScopeProduce)
	if cfg.ProducerToken != "" || cfg.JWTKey != "" {
		d.producer = client.NewProducer(d.pconn, ptok, d.log.Named("producer"))
	}
	d.rest = client.NewREST(cfg.HTTPAddr, ptok, adminTokenFunc(cfg))
	d.cfg = cfg
	if cfg.Embedded && d.producer != nil {
		// The broker is in this process: report healthy from the first Health call.
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := d.producer.Wait(wctx); err != nil {
			d.log.Warn("embedded broker producer stream not up yet", "error", err)
		}
	}
	return nil
}

// startBroker starts the embedded broker with the driver's config.
func startBroker(c *Config) (*broker.Broker, error) {
	vc := token.VerifierConfig{HS256Key: []byte(c.JWTKey), JWKSURL: c.JWKSURL}
	if c.RS256PublicKey != "" {
		pem := []byte(c.RS256PublicKey)
		if b, err := os.ReadFile(c.RS256PublicKey); err == nil {
			pem = b
		}
		vc.RS256PEM = pem
	}
	v, err := token.NewVerifier(vc)
	if err != nil {
		return nil, err
	}
	return broker.Start(broker.Config{DataDir: c.DataDir, ProducerAddr: c.ProducerAddr, WorkerAddr: c.WorkerAddr,
		HTTPAddr: c.HTTPAddr, Verifier: v, MaxAttempts: int(codeqMaxAttempts(0, c.MaxAttempts)), BackoffBase: durationOf(c.BackoffBase),
		BackoffMax: durationOf(c.BackoffMax), ReadyHold: durationOf(c.ReadyHold), ResultTTL: durationOf(c.ResultTTL),
		DefaultLease: durationOf(Duration(int64(c.LeaseSeconds) * 1e9))})
}

// Health is healthy when every stream in use is up (and the embedded broker runs).
func (d *Driver) Health(context.Context) sdk.Health {
	d.mu.Lock()
	defer d.mu.Unlock()
	details := map[string]string{"producer_addr": d.cfg.ProducerAddr, "worker_addr": d.cfg.WorkerAddr, "embedded": fmt.Sprint(d.cfg.Embedded)}
	var reasons []string
	for _, s := range []struct {
		name string
		l    interface{ State() (bool, string) }
		on   bool
	}{{"producer", d.producer, d.producer != nil}, {"worker", d.worker, d.worker != nil}} {
		if !s.on {
			continue
		}
		up, why := s.l.State()
		details[s.name] = map[bool]string{true: "up", false: "down: " + why}[up]
		if !up {
			reasons = append(reasons, fmt.Sprintf("codeq %s stream down: %s", s.name, why))
		}
	}
	if len(reasons) > 0 {
		return sdk.Health{Healthy: false, Reason: joinReasons(reasons), Details: details}
	}
	return sdk.Health{Healthy: true, Details: details}
}

// Close abandons held leases, ends the streams and stops the embedded broker.
func (d *Driver) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.worker != nil {
		d.worker.Close()
	}
	if d.producer != nil {
		d.producer.Close()
	}
	for _, c := range []conn{d.pconn, d.wconn} {
		if c != nil {
			_ = c.Close()
		}
	}
	if d.broker != nil {
		_ = d.broker.Close()
	}
}

// config returns the config; the SDK calls nothing but Base before Configure.
func (d *Driver) config() *Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

// workerStream returns the process's worker stream, opening it on first use.
func (d *Driver) workerStream(workerID string) (*client.Worker, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.worker != nil {
		return d.worker, nil
	}
	c := d.cfg
	if c.WorkerToken == "" && c.JWTKey == "" {
		return nil, sdk.Errorf(sdk.ErrRefused, "codeq worker stream needs plugins.messaging.codeq.worker_token (or jwt_key)")
	}
	id := c.WorkerID
	if id == "" {
		id = workerID
	}
	if id == "" {
		id = hostID()
	}
	cc, err := d.dial(c.WorkerAddr, c.TLS)
	if err != nil {
		return nil, sdk.WithKind(sdk.ErrUnavailable, err)
	}
	d.wconn = cc
	d.worker = client.NewWorker(cc, tokenFunc(c, c.WorkerToken, "worker", token.WorkerScopes),
		client.WorkerOptions{WorkerID: id, LeaseSeconds: c.LeaseSeconds, ReadyResend: durationOf(c.ReadyResend), SousID: d.ids.sousID}, d.log.Named("worker"))
	return d.worker, nil
}

// conn is a connection the codeQ streams are opened on.
type conn interface {
	grpc.ClientConnInterface
	Close() error
}

// dial connects to a codeQ stream: in memory to the embedded broker of this process
// (no socket, HTTP/2 or encoding on the invocation path), over the network otherwise.
func (d *Driver) dial(addr string, useTLS bool) (conn, error) {
	if d.broker != nil {
		return d.broker.DialMem(), nil
	}
	cc, err := client.Dial(addr, useTLS)
	if err != nil {
		return nil, err
	}
	return cc, nil
}

func (d *Driver) note(cmds ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range cmds {
		d.seen[c] = true
	}
}

func joinReasons(rs []string) string {
	out := rs[0]
	for _, r := range rs[1:] {
		out += "; " + r
	}
	return out
}

// classify gives a codeQ client error its sdk kind: a stale lease or a refusal is
// ErrRefused, an unknown task ErrNotFound, anything else (codeQ unreachable, the call
// timed out) ErrUnavailable. An error codeQ sent with a gRPC status keeps it.
func classify(err error) error {
	var rej *client.RejectedError
	switch {
	case err == nil:
		return nil
	case status.Code(err) != codes.Unknown:
		return err
	case errors.Is(err, client.ErrStaleLease):
		return sdk.WithKind(sdk.ErrRefused, err)
	case errors.Is(err, client.ErrNotFound):
		return sdk.WithKind(sdk.ErrNotFound, err)
	case errors.As(err, &rej):
		if rej.Reason == "not-found" {
			return sdk.WithKind(sdk.ErrNotFound, err)
		}
		return sdk.WithKind(sdk.ErrRefused, err)
	}
	return sdk.WithKind(sdk.ErrUnavailable, err)
}
