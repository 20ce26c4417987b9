package sdk

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	basepb "github.com/sous-run/sous/sdk/proto/base"
	eventspb "github.com/sous-run/sous/sdk/proto/events"
	executorpb "github.com/sous-run/sous/sdk/proto/executor"
	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
	"github.com/sous-run/sous/sdk/telemetry"
)

// Every conversion between the contract's Go types and their wire messages, both
// directions, for the client shims (client_*.go) and the server shims (serve_*.go).
// Names are <type>ToWire and <type>FromWire. The wire keeps times as Unix milliseconds
// (0: unset), leases and TTLs as whole seconds, and the limits' timeout in milliseconds.

func timeToWire(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func timeFromWire(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func secondsToWire(d time.Duration) int32 { return int32(d / time.Second) }

func secondsFromWire[T int32 | int64](n T) time.Duration { return time.Duration(n) * time.Second }

func msFromWire(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }

func infoToWire(i Info) *basepb.PluginInfo {
	vs := i.APIVersions
	if len(vs) == 0 {
		vs = []int{APIVersion}
	}
	out := &basepb.PluginInfo{Kind: i.Kind, Driver: i.Driver, PluginVersion: i.Version, Description: i.Description}
	for _, v := range vs {
		out.ApiVersions = append(out.ApiVersions, int32(v))
	}
	return out
}

// InfoFromWire returns the Info a plugin reported over the wire.
func InfoFromWire(p *basepb.PluginInfo) Info {
	info := Info{Kind: p.GetKind(), Driver: p.GetDriver(), Version: p.GetPluginVersion(), Description: p.GetDescription()}
	for _, v := range p.GetApiVersions() {
		info.APIVersions = append(info.APIVersions, int(v))
	}
	return info
}

// configToWire sends an empty config as "{}".
func configToWire(c Config) *basepb.ConfigureRequest {
	return &basepb.ConfigureRequest{ConfigJson: orEmptyObject(c.JSON), ApiVersion: int32(c.APIVersion), HostDataDir: c.HostDataDir}
}

func configFromWire(r *basepb.ConfigureRequest) Config {
	return Config{JSON: orEmptyObject(r.GetConfigJson()), APIVersion: int(r.GetApiVersion()), HostDataDir: r.GetHostDataDir()}
}

func orEmptyObject(raw []byte) []byte {
	if len(raw) == 0 {
		return []byte("{}")
	}
	return raw
}

func healthToWire(h Health) *basepb.HealthResponse {
	return &basepb.HealthResponse{Healthy: h.Healthy, Reason: h.Reason, Details: h.Details}
}

func healthFromWire(r *basepb.HealthResponse) Health {
	return Health{Healthy: r.GetHealthy(), Reason: r.GetReason(), Details: r.GetDetails()}
}

func taskToWire(t Task) *messagingpb.Task {
	return &messagingpb.Task{Id: t.ID, Tenant: t.Tenant, Command: t.Command, Payload: t.Payload,
		IdempotencyKey: t.IdempotencyKey, Priority: int32(t.Priority), DelayMs: t.Delay.Milliseconds(),
		MaxAttempts: int32(t.MaxAttempts), Attempt: int32(t.Attempt), EnqueuedAtMs: timeToWire(t.EnqueuedAt)}
}

func taskFromWire(t *messagingpb.Task) Task {
	return Task{ID: t.GetId(), Tenant: t.GetTenant(), Command: t.GetCommand(), Payload: t.GetPayload(),
		IdempotencyKey: t.GetIdempotencyKey(), Priority: int(t.GetPriority()), Delay: msFromWire(t.GetDelayMs()),
		MaxAttempts: int(t.GetMaxAttempts()), Attempt: int(t.GetAttempt()), EnqueuedAt: timeFromWire(t.GetEnqueuedAtMs())}
}

// leaseFromWire is the Lease a request names (its expiry is the driver's to know).
func leaseFromWire(tenant, taskID, leaseID string) Lease {
	return Lease{Tenant: tenant, TaskID: taskID, ID: leaseID}
}

func deliveryToWire(d Delivery) *messagingpb.Delivery {
	return &messagingpb.Delivery{Task: taskToWire(d.Task), LeaseId: d.Lease.ID, LeaseExpiresMs: timeToWire(d.Lease.Expires)}
}

func deliveryFromWire(d *messagingpb.Delivery) Delivery {
	t := taskFromWire(d.GetTask())
	return Delivery{Task: t, Lease: Lease{Tenant: t.Tenant, TaskID: t.ID, ID: d.GetLeaseId(), Expires: timeFromWire(d.GetLeaseExpiresMs())}}
}

func subscriptionToWire(s Subscription) *messagingpb.Subscribe {
	return &messagingpb.Subscribe{Commands: s.Commands, LeaseSeconds: secondsToWire(s.Lease), WorkerId: s.WorkerID, Tenant: s.Tenant}
}

func subscriptionFromWire(s *messagingpb.Subscribe) Subscription {
	return Subscription{Commands: s.GetCommands(), Lease: secondsFromWire(s.GetLeaseSeconds()), WorkerID: s.GetWorkerId(), Tenant: s.GetTenant()}
}

func resultToWire(r TaskResult) *messagingpb.TaskResult {
	return &messagingpb.TaskResult{Id: r.ID, Status: r.Status, ResultJson: r.Result, Error: r.Error,
		CompletedAtMs: timeToWire(r.CompletedAt), Attempts: int32(r.Attempts)}
}

func resultFromWire(r *messagingpb.TaskResult) TaskResult {
	return TaskResult{ID: r.GetId(), Status: r.GetStatus(), Result: r.GetResultJson(), Error: r.GetError(),
		CompletedAt: timeFromWire(r.GetCompletedAtMs()), Attempts: int(r.GetAttempts())}
}

func statsToWire(cs []CommandStats) *messagingpb.StatsResponse {
	out := &messagingpb.StatsResponse{Commands: make([]*messagingpb.CommandStats, 0, len(cs))}
	for _, c := range cs {
		out.Commands = append(out.Commands, &messagingpb.CommandStats{Command: c.Command, Pending: c.Pending,
			InProgress: c.InProgress, Delayed: c.Delayed, Dead: c.Dead})
	}
	return out
}

func statsFromWire(r *messagingpb.StatsResponse) []CommandStats {
	out := make([]CommandStats, 0, len(r.GetCommands()))
	for _, c := range r.GetCommands() {
		out = append(out, CommandStats{Command: c.GetCommand(), Pending: c.GetPending(), InProgress: c.GetInProgress(),
			Delayed: c.GetDelayed(), Dead: c.GetDead()})
	}
	return out
}

func eventToWire(e Event) *eventspb.Event { return &eventspb.Event{Id: e.ID, Envelope: e.Envelope} }

func eventFromWire(e *eventspb.Event) Event { return Event{ID: e.GetId(), Envelope: e.GetEnvelope()} }

func specToWire(s FunctionSpec) *executorpb.FunctionSpec {
	return &executorpb.FunctionSpec{Digest: s.Digest, Runtime: s.Runtime, Entry: s.Entry, Files: s.Files, Vars: s.Vars,
		Function: s.Function, Network: s.Network,
		Limits: &executorpb.Limits{TimeoutMs: s.Limits.Timeout.Milliseconds(), MemoryMb: s.Limits.MemoryMB,
			MaxResultBytes: s.Limits.MaxResultBytes, MaxLogBytes: s.Limits.MaxLogBytes}}
}

func specFromWire(s *executorpb.FunctionSpec) FunctionSpec {
	l := s.GetLimits()
	return FunctionSpec{Digest: s.GetDigest(), Runtime: s.GetRuntime(), Entry: s.GetEntry(), Files: s.GetFiles(),
		Vars: s.GetVars(), Function: s.GetFunction(), Network: s.GetNetwork(),
		Limits: Limits{Timeout: msFromWire(l.GetTimeoutMs()), MemoryMB: l.GetMemoryMb(),
			MaxResultBytes: l.GetMaxResultBytes(), MaxLogBytes: l.GetMaxLogBytes()}}
}

func runToWire(r RunRequest) *executorpb.RunRequest {
	return &executorpb.RunRequest{InvocationId: r.InvocationID, Digest: r.Digest, InputJson: r.Input, Env: r.Env,
		DeadlineUnixMs: timeToWire(r.Deadline), Function: r.Function, Version: r.Version, Attempt: int32(r.Attempt), Tenant: r.Tenant}
}

func runFromWire(r *executorpb.RunRequest) RunRequest {
	return RunRequest{InvocationID: r.GetInvocationId(), Tenant: r.GetTenant(), Function: r.GetFunction(), Version: r.GetVersion(),
		Digest: r.GetDigest(), Input: r.GetInputJson(), Env: r.GetEnv(), Deadline: timeFromWire(r.GetDeadlineUnixMs()), Attempt: int(r.GetAttempt())}
}

// startToWire is the start of a run: the request, the context's time left and the
// call metadata (trace context) a Run call would have carried.
func startToWire(ctx context.Context, req RunRequest) *executorpb.SessionStart {
	start := &executorpb.SessionStart{Request: runToWire(req)}
	if dl, ok := ctx.Deadline(); ok {
		start.TimeoutUs = max(1, time.Until(dl).Microseconds())
	}
	if md, ok := metadata.FromOutgoingContext(telemetry.Outgoing(ctx)); ok {
		start.Metadata = make(map[string]string, len(md))
		for k, vs := range md {
			if len(vs) > 0 {
				start.Metadata[k] = vs[0]
			}
		}
	}
	return start
}

// runEndToWire is run n's terminal event: its last envelope (nil: none) and its
// error as a gRPC status code and message (err is a status error or nil).
func runEndToWire(n uint64, envelope []byte, err error) *executorpb.SessionEvent {
	ev := &executorpb.SessionEvent{Run: n, Envelope: envelope, Done: true}
	if err != nil {
		st := status.Convert(err)
		ev.Code, ev.Message = int32(st.Code()), st.Message()
	}
	return ev
}

// runErrorFromWire is the error a terminal event carries, with its kind (nil: ok).
func runErrorFromWire(ev *executorpb.SessionEvent) error {
	if !ev.GetDone() || ev.GetCode() == 0 {
		return nil
	}
	return FromStatus(status.Error(codes.Code(ev.GetCode()), ev.GetMessage()))
}
