package sdk

import (
	"context"
	"time"

	executorpb "github.com/sous-run/sous/sdk/proto/executor"
)

// executorServer adapts an Executor driver to the generated gRPC service.
type executorServer struct {
	executorpb.UnimplementedExecutorServer
	*baseServer
	x Executor
}

func (s *executorServer) Prepare(ctx context.Context, req *executorpb.PrepareRequest) (*executorpb.PrepareResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	cached, err := s.x.Prepare(ctx, specFromPB(req.GetSpec()))
	if err != nil {
		return nil, ToStatus(err)
	}
	return &executorpb.PrepareResponse{Cached: cached}, nil
}

func (s *executorServer) Run(req *executorpb.RunRequest, out executorpb.Executor_RunServer) error {
	if err := s.ready(); err != nil {
		return err
	}
	r := RunRequest{InvocationID: req.InvocationId, Tenant: req.Tenant, Function: req.Function, Version: req.Version,
		Digest: req.Digest, Input: req.InputJson, Env: req.Env, Deadline: fromUnixMs(req.DeadlineUnixMs), Attempt: int(req.Attempt)}
	return ToStatus(s.x.Run(out.Context(), r, func(envelope []byte) error {
		return out.Send(&executorpb.RunEvent{Envelope: envelope})
	}))
}

func specFromPB(s *executorpb.FunctionSpec) FunctionSpec {
	l := s.GetLimits()
	return FunctionSpec{Digest: s.GetDigest(), Runtime: s.GetRuntime(), Entry: s.GetEntry(), Files: s.GetFiles(),
		Vars: s.GetVars(), Function: s.GetFunction(), Network: s.GetNetwork(),
		Limits: Limits{Timeout: time.Duration(l.GetTimeoutMs()) * time.Millisecond, MemoryMB: l.GetMemoryMb(),
			MaxResultBytes: l.GetMaxResultBytes(), MaxLogBytes: l.GetMaxLogBytes()}}
}
