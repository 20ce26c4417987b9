package telemetry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// metricsMethod is the one RPC of the metrics service a plugin serves beside its kind's
// service: it answers Registry's families, length-delimited protobuf.
const metricsMethod = "/sous.telemetry.v1.Telemetry/Metrics"

// metricsServer answers Metrics from a gatherer.
type metricsServer struct {
	g func() ([]*dto.MetricFamily, error)
}

func (m metricsServer) metrics(context.Context, *emptypb.Empty) (*wrapperspb.BytesValue, error) {
	fams, err := m.g()
	if err != nil {
		return nil, fmt.Errorf("gather metrics: %w", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeProtoDelim))
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			return nil, fmt.Errorf("encode metric %s: %w", f.GetName(), err)
		}
	}
	return wrapperspb.Bytes(buf.Bytes()), nil
}

// RegisterMetricsService serves Registry's metrics on s (sdk.Serve does this for
// every plugin).
func RegisterMetricsService(s grpc.ServiceRegistrar) {
	srv := metricsServer{g: Registry.Gather}
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: "sous.telemetry.v1.Telemetry",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Metrics",
			Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				in := new(emptypb.Empty)
				if err := dec(in); err != nil {
					return nil, err
				}
				return srv.metrics(ctx, in)
			},
		}},
		Metadata: "sous/telemetry.proto",
	}, srv)
}

// FetchMetrics asks a plugin for its metric families. A plugin that does not serve
// the metrics service (built against an older SDK) answers codes.Unimplemented.
func FetchMetrics(ctx context.Context, cc grpc.ClientConnInterface) ([]*dto.MetricFamily, error) {
	out := new(wrapperspb.BytesValue)
	if err := cc.Invoke(ctx, metricsMethod, &emptypb.Empty{}, out); err != nil {
		return nil, err
	}
	dec := expfmt.NewDecoder(bytes.NewReader(out.Value), expfmt.NewFormat(expfmt.TypeProtoDelim))
	var fams []*dto.MetricFamily
	for {
		f := new(dto.MetricFamily)
		if err := dec.Decode(f); err != nil {
			if errors.Is(err, io.EOF) {
				return fams, nil
			}
			return fams, fmt.Errorf("decode plugin metrics: %w", err)
		}
		fams = append(fams, f)
	}
}
