package harness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.opentelemetry.io/otel/trace"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
	"github.com/sous-run/sous/sdk/harness/sandbox"
	"github.com/sous-run/sous/sdk/telemetry"
)

// Plugin is one runtime as an sdk.Executor: Base (Info, Configure, Health) and
// Prepare, Run. Build it with NewPlugin and pass it to sdk.Serve.
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

// Info says what the plugin is.
func (p *Plugin) Info() sdk.Info {
	return sdk.Info{Kind: sdk.KindExecutor, Driver: p.rt.Name, Version: p.rt.Version,
		Description: "runs " + p.rt.Name + " functions in supervised harness processes"}
}

// Configure applies the config subtree; every failure is a config error (it names
// the setting, the runtime or the directory to fix).
func (p *Plugin) Configure(_ context.Context, c sdk.Config) error {
	if err := p.configure(c.JSON, c.HostDataDir); err != nil {
		return sdk.WithKind(sdk.ErrInvalid, err)
	}
	return nil
}

// Health reports the runtime, the warm processes and the sandbox.
func (p *Plugin) Health(context.Context) sdk.Health {
	l, err := p.live()
	if err != nil {
		return sdk.Health{Healthy: false, Reason: err.Error()}
	}
	total, idle := l.pool.Stats()
	d := map[string]string{"runtime": l.interp, "processes": fmt.Sprint(total), "idle": fmt.Sprint(idle),
		"cache_dir": l.cfg.CacheDir, "sandbox": l.jail.describe()}
	if l.jail != nil {
		d["sandbox_init"] = sandbox.InitBinary()
	}
	return sdk.Health{Healthy: true, Details: d}
}

// configure validates the config, finds the runtime and writes the runner to the
// cache dir. A reconfiguration replaces the pool (running invocations finish).
func (p *Plugin) configure(raw []byte, hostDataDir string) error {
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

// live returns the configured parts, or sdk.ErrNotConfigured before Configure.
func (p *Plugin) live() (*live, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.cur == nil {
		return nil, fmt.Errorf("executor %s: %w", p.rt.Name, sdk.ErrNotConfigured)
	}
	return p.cur, nil
}

// Prepare installs a function bundle; a bad spec is sdk.ErrInvalid.
func (p *Plugin) Prepare(_ context.Context, spec sdk.FunctionSpec) (bool, error) {
	l, err := p.live()
	if err != nil {
		return false, err
	}
	cached, err := l.store.Prepare(&spec)
	if err != nil {
		return false, sdk.WithKind(sdk.ErrInvalid, err)
	}
	return cached, nil
}

// Run runs one invocation on a warm (or new) harness process of the digest and
// streams its envelopes, ending with exactly one result or error.
func (p *Plugin) Run(ctx context.Context, req sdk.RunRequest, emit func(envelope []byte) error) error {
	l, err := p.live()
	if err != nil {
		return err
	}
	fn, err := l.store.Load(req.Digest)
	if errors.Is(err, ErrNotPrepared) {
		return fmt.Errorf("%w: digest %s is not prepared on this executor: call Prepare first", sdk.ErrNotFound, req.Digest)
	} else if err != nil {
		return err
	}
	limits := fn.Limits.orDefault(l.cfg.Defaults)
	deadline := time.Now().Add(time.Duration(limits.TimeoutMS) * time.Millisecond)
	if !req.Deadline.IsZero() {
		deadline = minTime(deadline, req.Deadline)
	}
	iv := newInvocation(emit, limits.MaxLogBytes)
	input, ok := []byte("null"), true
	if len(req.Input) > 0 {
		input, ok = oneLine(req.Input)
	}
	if !ok {
		iv.fail(envelope.KindUser, "input is not valid JSON")
		return nil
	}
	proc, err := p.acquire(ctx, l, fn, poolKey(req), limits, deadline)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
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
	ctx, span := telemetry.Start(ctx, "harness.run", req.InvocationID, trace.SpanKindInternal)
	defer span.End()
	line := requestLine(req, input, tmp, deadline, limits, iv.nonce, telemetry.Traceparent(ctx))
	reusable := proc.run(ctx, deadline, line, iv)
	proc.dropTmp(tmpParent, tmp) // before Release, so the next run finds its temp dir ready
	if reusable && proc.jail != nil {
		// The next run must start clean: what this one left running is killed, TMPDIR
		// emptied. The check runs after the answer has gone out.
		l.pool.ReleaseAfter(proc, func() bool { return proc.jail.StartClean() == nil })
	} else {
		l.pool.Release(proc, reusable)
	}
	return ctx.Err()
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
func (p *Plugin) acquire(ctx context.Context, l *live, fn *Function, key string, limits Limits, deadline time.Time) (*Proc, error) {
	rt := p.rt
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
func poolKey(req sdk.RunRequest) string {
	return strings.Join([]string{req.Tenant, req.Function, req.Version, req.Digest}, "\x00")
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
