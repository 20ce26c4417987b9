package harness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
	basepb "github.com/sous-run/sous/sdk/proto/base"
	executorpb "github.com/sous-run/sous/sdk/proto/executor"
	"github.com/sous-run/sous/sdk/telemetry"
)

// Plugin serves one runtime as an executor plugin: Base (Info, Configure, Health) and
// Executor (Prepare, Run). Build it with NewPlugin and pass Server() to sdk.Serve.
type Plugin struct {
	rt  *Runtime
	log hclog.Logger

	mu  sync.RWMutex
	cur *live // nil until configured
}

// live is what Configure sets up; replaced as a whole on reconfiguration.
type live struct {
	cfg    *Config
	interp string // the resolved interpreter
	runner string // the runner script in the cache dir
	store  *Store
	pool   *Pool
	jail   *jailer // nil: processes run without the sandbox
}

// NewPlugin returns an unconfigured plugin for rt.
func NewPlugin(rt *Runtime, log hclog.Logger) *Plugin {
	p := &Plugin{rt: rt, log: log}
	registerMetrics(p)
	return p
}

// Server returns the sdk.Server to hand to sdk.Serve.
func (p *Plugin) Server() *sdk.Server {
	return &sdk.Server{Kind: sdk.KindExecutor, Base: &baseServer{p: p}, Executor: &executorServer{p: p}}
}

type baseServer struct {
	basepb.UnimplementedBaseServer
	p *Plugin
}

func (b *baseServer) Info(context.Context, *basepb.InfoRequest) (*basepb.PluginInfo, error) {
	return &basepb.PluginInfo{Kind: sdk.KindExecutor, Driver: b.p.rt.Name, PluginVersion: b.p.rt.Version,
		ApiVersions: []int32{sdk.APIVersion}, Description: "runs " + b.p.rt.Name + " functions in supervised harness processes"}, nil
}

func (b *baseServer) Configure(_ context.Context, req *basepb.ConfigureRequest) (*basepb.ConfigureResponse, error) {
	if err := b.p.Configure(req.ConfigJson, req.HostDataDir); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &basepb.ConfigureResponse{}, nil
}

func (b *baseServer) Health(context.Context, *basepb.HealthRequest) (*basepb.HealthResponse, error) {
	l, err := b.p.live()
	if err != nil {
		return &basepb.HealthResponse{Healthy: false, Reason: "not configured"}, nil
	}
	total, idle := l.pool.Stats()
	return &basepb.HealthResponse{Healthy: true, Details: map[string]string{
		"runtime": l.interp, "processes": fmt.Sprint(total), "idle": fmt.Sprint(idle), "cache_dir": l.cfg.CacheDir,
		"sandbox": l.jail.describe()}}, nil
}

// Configure validates the config, finds the runtime and writes the runner to the
// cache dir. A reconfiguration replaces the pool (running invocations finish).
func (p *Plugin) Configure(raw []byte, hostDataDir string) error {
	cfg, err := ParseConfig(p.rt, raw, hostDataDir)
	if err != nil {
		return err
	}
	interp, err := p.rt.Find(cfg.Interpreter)
	if err != nil {
		return fmt.Errorf("executor %s: %w", p.rt.Name, err)
	}
	store, err := NewStore(cfg.CacheDir, p.rt.Name)
	if err != nil {
		return fmt.Errorf("executor %s: %w", p.rt.Name, err)
	}
	runner, err := writeRunner(cfg.CacheDir, p.rt.RunnerFile, p.rt.Runner)
	if err != nil {
		return fmt.Errorf("executor %s: %w", p.rt.Name, err)
	}
	for _, d := range []string{"tmp", "home"} {
		if err := os.MkdirAll(filepath.Join(cfg.CacheDir, d), 0o755); err != nil {
			return fmt.Errorf("executor %s: %w", p.rt.Name, err)
		}
	}
	jail, err := p.setupSandbox(cfg, interp, runner)
	if err != nil {
		return fmt.Errorf("executor %s: %w", p.rt.Name, err)
	}
	p.mu.Lock()
	old := p.cur
	p.cur = &live{cfg: cfg, interp: interp, runner: runner, store: store, pool: NewPool(cfg.MaxProcesses, cfg.IdleTTL), jail: jail}
	p.mu.Unlock()
	if old != nil {
		old.pool.Close()
	}
	p.log.Info("configured", "runtime", interp, "cache_dir", cfg.CacheDir, "max_processes", cfg.MaxProcesses, "sandbox", jail != nil)
	return nil
}

// writeRunner writes the embedded runner under a directory named for its content,
// so plugin versions never overwrite each other's runner.
func writeRunner(cacheDir, name string, src []byte) (string, error) {
	sum := sha256.Sum256(src)
	dir := filepath.Join(cacheDir, "runner", hex.EncodeToString(sum[:8]))
	path := filepath.Join(dir, name)
	if b, err := os.ReadFile(path); err == nil && string(b) == string(src) {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("runner dir: %w", err)
	}
	tmp := path + ".tmp" + fmt.Sprint(os.Getpid())
	if err := os.WriteFile(tmp, src, 0o644); err != nil {
		return "", fmt.Errorf("write runner: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("install runner: %w", err)
	}
	return path, nil
}

// live returns the configured parts, or FailedPrecondition before Configure.
func (p *Plugin) live() (*live, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.cur == nil {
		return nil, status.Error(codes.FailedPrecondition, "executor "+p.rt.Name+" is not configured")
	}
	return p.cur, nil
}

type executorServer struct {
	executorpb.UnimplementedExecutorServer
	p *Plugin
}

func (e *executorServer) Prepare(_ context.Context, req *executorpb.PrepareRequest) (*executorpb.PrepareResponse, error) {
	l, err := e.p.live()
	if err != nil {
		return nil, err
	}
	cached, err := l.store.Prepare(req.GetSpec())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &executorpb.PrepareResponse{Cached: cached}, nil
}

// Run runs one invocation on a warm (or new) harness process of the digest and
// streams its envelopes, ending with exactly one result or error.
func (e *executorServer) Run(req *executorpb.RunRequest, out executorpb.Executor_RunServer) error {
	l, err := e.p.live()
	if err != nil {
		return err
	}
	fn, err := l.store.Load(req.Digest)
	if errors.Is(err, ErrNotPrepared) {
		return status.Errorf(codes.NotFound, "digest %s is not prepared on this executor: call Prepare first", req.Digest)
	} else if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	limits := fn.Limits.orDefault(l.cfg.Defaults)
	deadline := time.Now().Add(time.Duration(limits.TimeoutMS) * time.Millisecond)
	if req.DeadlineUnixMs > 0 {
		deadline = minTime(deadline, time.UnixMilli(req.DeadlineUnixMs))
	}
	iv := newInvocation(out, limits.MaxLogBytes)
	input := req.InputJson
	if len(input) == 0 {
		input = []byte("null")
	} else if !json.Valid(input) {
		iv.fail(envelope.KindUser, "input is not valid JSON")
		return nil
	}
	ctx := out.Context()
	proc, err := e.acquire(ctx, l, fn, poolKey(req), limits, deadline)
	if err != nil {
		if ctx.Err() != nil {
			return status.FromContextError(ctx.Err()).Err()
		}
		var ee *envelopeError
		if errors.As(err, &ee) {
			iv.finish(ee.raw())
		}
		return nil
	}
	tmpParent := filepath.Join(l.cfg.CacheDir, "tmp")
	tmp, err := proc.takeTmp(tmpParent)
	if err != nil {
		l.pool.Release(proc, true)
		iv.fail(envelope.KindInfra, "invocation temp dir: %v", err)
		return nil
	}
	ctx, span := telemetry.Start(ctx, "harness.run", req.InvocationId, trace.SpanKindInternal)
	defer span.End()
	line := requestLine(req, input, tmp, deadline, limits, iv.nonce, telemetry.Traceparent(ctx))
	reusable := proc.run(ctx, deadline, line, iv)
	proc.dropTmp(tmpParent, tmp) // before Release, so the next run finds its temp dir ready
	if reusable && proc.jail != nil && proc.jail.StartClean() != nil {
		reusable = false // the next run must start clean: what this one left running is killed, TMPDIR emptied
	}
	l.pool.Release(proc, reusable)
	if ctx.Err() != nil {
		return status.FromContextError(ctx.Err()).Err()
	}
	return nil
}

// envelopeError is a failure to get a process, as the error envelope to send.
type envelopeError struct{ kind, msg string }

func (e *envelopeError) Error() string { return e.msg }
func (e *envelopeError) raw() []byte {
	b, _ := envelope.Marshal(envelope.Errorf(e.kind, "%s", e.msg))
	return b
}

// acquire gets a process for fn from the pool, starting one if needed; waiting for a
// free slot counts against the deadline.
func (e *executorServer) acquire(ctx context.Context, l *live, fn *Function, key string, limits Limits, deadline time.Time) (*Proc, error) {
	rt := e.p.rt
	actx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	proc, err := l.pool.Acquire(actx, key, func() (*Proc, error) {
		defer observeColdStart(time.Now())
		return startProc(procSpec{argv: rt.Args(l.interp, l.runner, fn.CodeDir, fn.Entry), fn: fn, key: key, limits: limits,
			mem: rt.Memory, homeDir: filepath.Join(l.cfg.CacheDir, "home"), jail: l.jail})
	})
	switch {
	case err == nil:
		return proc, nil
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return nil, &envelopeError{envelope.KindTimeout, fmt.Sprintf("no harness process was free before the deadline (max_processes %d)", l.cfg.MaxProcesses)}
	default:
		return nil, &envelopeError{envelope.KindInfra, fmt.Sprintf("start %s harness: %v", rt.Name, err)}
	}
}

// poolKey is what a warm process is reused for: one tenant's one function version
// (and digest). Two tenants deploying identical code never share a process.
func poolKey(req *executorpb.RunRequest) string {
	return strings.Join([]string{req.Tenant, req.Function, req.Version, req.Digest}, "\x00")
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
