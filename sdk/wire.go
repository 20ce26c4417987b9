package sdk

import (
	"time"

	basepb "github.com/sous-run/sous/sdk/proto/base"
	executorpb "github.com/sous-run/sous/sdk/proto/executor"
	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

// Conversions between the contract's Go types and their wire messages. The wire keeps
// times as Unix milliseconds (0: unset) and leases as whole seconds.

func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func timeMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func seconds(d time.Duration) int32 { return int32(d / time.Second) }

// InfoFromWire returns the Info a plugin reported over the wire.
func InfoFromWire(p *basepb.PluginInfo) Info {
	info := Info{Kind: p.GetKind(), Driver: p.GetDriver(), Version: p.GetPluginVersion(), Description: p.GetDescription()}
	for _, v := range p.GetApiVersions() {
		info.APIVersions = append(info.APIVersions, int(v))
	}
	return info
}

func taskToWire(t Task) *messagingpb.Task {
	return &messagingpb.Task{Id: t.ID, Tenant: t.Tenant, Command: t.Command, Payload: t.Payload,
		IdempotencyKey: t.IdempotencyKey, Priority: int32(t.Priority), DelayMs: t.Delay.Milliseconds(),
		MaxAttempts: int32(t.MaxAttempts), Attempt: int32(t.Attempt), EnqueuedAtMs: timeMS(t.EnqueuedAt)}
}

func taskFromWire(t *messagingpb.Task) Task {
	return Task{ID: t.GetId(), Tenant: t.GetTenant(), Command: t.GetCommand(), Payload: t.GetPayload(),
		IdempotencyKey: t.GetIdempotencyKey(), Priority: int(t.GetPriority()), Delay: time.Duration(t.GetDelayMs()) * time.Millisecond,
		MaxAttempts: int(t.GetMaxAttempts()), Attempt: int(t.GetAttempt()), EnqueuedAt: msTime(t.GetEnqueuedAtMs())}
}

func deliveryFromWire(d *messagingpb.Delivery) Delivery {
	t := taskFromWire(d.GetTask())
	return Delivery{Task: t, Lease: Lease{Tenant: t.Tenant, TaskID: t.ID, ID: d.GetLeaseId(), Expires: msTime(d.GetLeaseExpiresMs())}}
}

func resultFromWire(r *messagingpb.TaskResult) TaskResult {
	return TaskResult{ID: r.GetId(), Status: r.GetStatus(), Result: r.GetResultJson(), Error: r.GetError(),
		CompletedAt: msTime(r.GetCompletedAtMs()), Attempts: int(r.GetAttempts())}
}

func specToWire(s FunctionSpec) *executorpb.FunctionSpec {
	return &executorpb.FunctionSpec{Digest: s.Digest, Runtime: s.Runtime, Entry: s.Entry, Files: s.Files, Vars: s.Vars,
		Function: s.Function, Network: s.Network,
		Limits: &executorpb.Limits{TimeoutMs: s.Limits.Timeout.Milliseconds(), MemoryMb: s.Limits.MemoryMB,
			MaxResultBytes: s.Limits.MaxResultBytes, MaxLogBytes: s.Limits.MaxLogBytes}}
}

func runToWire(r RunRequest) *executorpb.RunRequest {
	return &executorpb.RunRequest{InvocationId: r.InvocationID, Digest: r.Digest, InputJson: r.Input, Env: r.Env,
		DeadlineUnixMs: timeMS(r.Deadline), Function: r.Function, Version: r.Version, Attempt: int32(r.Attempt), Tenant: r.Tenant}
}
