package sdk

import (
	"context"

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
	cached, err := s.x.Prepare(ctx, specFromWire(req.GetSpec()))
	if err != nil {
		return nil, ToStatus(err)
	}
	return &executorpb.PrepareResponse{Cached: cached}, nil
}

func (s *executorServer) Run(req *executorpb.RunRequest, out executorpb.Executor_RunServer) error {
	if err := s.ready(); err != nil {
		return err
	}
	r := runFromWire(req)
	return ToStatus(s.x.Run(out.Context(), r, func(envelope []byte) error {
		return out.Send(&executorpb.RunEvent{Envelope: envelope})
	}))
}
