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
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/envelope"
	basepb "github.com/sous-run/sous/sdk/proto/base"
	executorpb "github.com/sous-run/sous/sdk/proto/executor"
)

// Plugin serves one runtime as an executor plugin: Base (Info, Configure, Health) and
// Executor (Prepare, Run). Build it with NewPlugin and pass Server() to sdk.Serve.
type Plugin struct {
	rt  *Runtime
	log hclog.Logger

	mu     sync.RWMutex
	cfg    *Config
	interp string
	runner string
	store  *Store
	pool   *Pool
}

// NewPlugin returns an unconfigured plugin for rt.
func NewPlugin(rt *Runtime, log hclog.Logger) *Plugin { return &Plugin{rt: rt, log: log} }

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
	p := b.p
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.pool == nil {
		return &basepb.HealthResponse{Healthy: false, Reason: "not configured"}, nil
	}
	total, idle := p.pool.Stats()
	return &basepb.HealthResponse{Healthy: true, Details: map[string]string{
		"runtime": p.interp, "processes": fmt.Sprint(total), "idle": fmt.Sprint(idle), "cache_dir": p.cfg.CacheDir}}, nil
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
	p.mu.Lock()
	old := p.pool
	p.cfg, p.interp, p.runner, p.store = cfg, interp, runner, store
	p.pool = NewPool(cfg.MaxProcesses, cfg.IdleTTL)
	p.mu.Unlock()
	if old != nil {
		old.Close()
	}
	p.log.Info("configured", "runtime", interp, "cache_dir", cfg.CacheDir, "max_processes", cfg.MaxProcesses)
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

// state returns the configured parts, or an error when Configure has not run.
func (p *Plugin) state() (*Config, string, string, *Store, *Pool, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.pool == nil {
		return nil, "", "", nil, nil, status.Error(codes.FailedPrecondition, "executor "+p.rt.Name+" is not configured")
	}
	return p.cfg, p.interp, p.runner, p.store, p.pool, nil
}

type executorServer struct {
	executorpb.UnimplementedExecutorServer
	p *Plugin
}

func (e *executorServer) Prepare(_ context.Context, req *executorpb.PrepareRequest) (*executorpb.PrepareResponse, error) {
	_, _, _, store, _, err := e.p.state()
	if err != nil {
		return nil, err
	}
	cached, err := store.Prepare(req.GetSpec())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &executorpb.PrepareResponse{Cached: cached}, nil
}

// runnerRequest is one line on the harness's stdin.
type runnerRequest struct {
	ID             string          `json:"id"`
	Input          json.RawMessage `json:"input"`
	Ctx            runnerCtx       `json:"ctx"`
	TmpDir         string          `json:"tmpdir"`
	MaxResultBytes int64           `json:"max_result_bytes"`
}

// runnerCtx is the ctx handed to the function.
type runnerCtx struct {
	InvocationID string `json:"invocation_id"`
	Function     string `json:"function"`
	Version      string `json:"version"`
	Env          string `json:"env"`
	Deadline     int64  `json:"deadline"`
	Attempt      int32  `json:"attempt"`
	Tenant       string `json:"tenant"`
}

func (e *executorServer) Run(req *executorpb.RunRequest, out executorpb.Executor_RunServer) error {
	p := e.p
	cfg, interp, runner, store, pool, err := p.state()
	if err != nil {
		return err
	}
	fn, err := store.Load(req.Digest)
	if errors.Is(err, ErrNotPrepared) {
		return status.Errorf(codes.NotFound, "digest %s is not prepared on this executor: call Prepare first", req.Digest)
	} else if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	limits := fn.Limits.orDefault(cfg.Defaults)
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
	actx, cancel := context.WithDeadline(ctx, deadline)
	proc, err := pool.Acquire(actx, fn.Digest, func() (*Proc, error) {
		return startProc(procSpec{argv: p.rt.Args(interp, runner, fn.CodeDir, fn.Entry), fn: fn, limits: limits,
			mem: p.rt.Memory, homeDir: filepath.Join(cfg.CacheDir, "home")})
	})
	cancel()
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return status.FromContextError(ctx.Err()).Err()
	case errors.Is(err, context.DeadlineExceeded):
		iv.fail(envelope.KindTimeout, "no harness process was free before the deadline (max_processes %d)", cfg.MaxProcesses)
		return nil
	default:
		iv.fail(envelope.KindInfra, "start %s harness: %v", p.rt.Name, err)
		return nil
	}
	tmpParent := filepath.Join(cfg.CacheDir, "tmp")
	tmp, err := proc.takeTmp(tmpParent)
	if err != nil {
		pool.Release(proc, true)
		iv.fail(envelope.KindInfra, "invocation temp dir: %v", err)
		return nil
	}
	defer proc.dropTmp(tmpParent, tmp)
	line, _ := json.Marshal(runnerRequest{ID: req.InvocationId, Input: input, TmpDir: tmp, MaxResultBytes: limits.MaxResultBytes,
		Ctx: runnerCtx{InvocationID: req.InvocationId, Function: req.Function, Version: req.Version, Env: req.Env,
			Deadline: deadline.UnixMilli(), Attempt: req.Attempt, Tenant: req.Tenant}})
	reusable := proc.run(ctx, deadline, append(line, '\n'), iv)
	pool.Release(proc, reusable)
	if ctx.Err() != nil {
		return status.FromContextError(ctx.Err()).Err()
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
