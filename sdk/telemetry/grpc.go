package telemetry

import (
	"context"
	"path"
	"strings"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// invocationMD is the gRPC metadata key that names the invocation a call is about.
const invocationMD = "sous-invocation-id"

// Outgoing adds the trace context and invocation id of ctx to the metadata of a gRPC
// call made with it. With tracing off, or for a call about no invocation, ctx is
// returned unchanged.
func Outgoing(ctx context.Context) context.Context {
	c := Carrier(ctx)
	if c == nil {
		return ctx
	}
	kv := make([]string, 0, 2*len(c))
	for k, v := range c {
		kv = append(kv, k, v)
	}
	return metadata.AppendToOutgoingContext(ctx, kv...)
}

// Carrier is what Outgoing adds to a call's metadata, for a call carried as a
// message (the messaging Calls); nil with tracing off or for a call about no
// invocation.
func Carrier(ctx context.Context) map[string]string {
	if !enabled.Load() {
		return nil
	}
	id := InvocationID(ctx)
	if id == "" {
		return nil
	}
	c := propagation.MapCarrier{}
	prop.Inject(ctx, c)
	c[invocationMD] = id
	return c
}

// CallSpan is the server span of a call carried as a message with a Carrier, as the
// interceptors start one for a gRPC call: nil when tracing is off or the call names
// no invocation.
func CallSpan(ctx context.Context, method string, c map[string]string) (context.Context, trace.Span) {
	id := c[invocationMD]
	if !enabled.Load() || id == "" {
		return ctx, nil
	}
	ctx = prop.Extract(ctx, propagation.MapCarrier(c))
	return Start(ctx, spanName(method), id, trace.SpanKindServer)
}

// ServerOptions are the interceptors sdk.Serve installs: a call that names an
// invocation in its metadata gets a server span (child of the caller's) named for its
// method, e.g. "executor.Run", and its handler's context carries both.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(unaryServer), grpc.ChainStreamInterceptor(streamServer)}
}

func unaryServer(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	ctx, span := serverSpan(ctx, info.FullMethod)
	if span == nil {
		return h(ctx, req)
	}
	defer span.End()
	return h(ctx, req)
}

func streamServer(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	ctx, span := serverSpan(ss.Context(), info.FullMethod)
	if span == nil {
		return h(srv, ss)
	}
	defer span.End()
	return h(srv, &tracedStream{ServerStream: ss, ctx: ctx})
}

// serverSpan starts the span of an incoming call about an invocation; nil when
// tracing is off or the call names none.
func serverSpan(ctx context.Context, method string) (context.Context, trace.Span) {
	if !enabled.Load() {
		return ctx, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	ids := md.Get(invocationMD)
	if len(ids) == 0 {
		return ctx, nil
	}
	ctx = prop.Extract(ctx, metadataCarrier(md))
	return Start(ctx, spanName(method), ids[0], trace.SpanKindServer)
}

// spanName turns "/sous.executor.v1.Executor/Run" into "executor.Run".
func spanName(method string) string {
	svc, m := path.Split(method)
	svc = strings.Trim(svc, "/")
	if i := strings.LastIndex(svc, "."); i >= 0 {
		svc = svc[i+1:]
	}
	return strings.ToLower(svc) + "." + m
}

type tracedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *tracedStream) Context() context.Context { return s.ctx }

// metadataCarrier reads W3C headers out of gRPC metadata.
type metadataCarrier metadata.MD

func (c metadataCarrier) Get(k string) string {
	if v := metadata.MD(c).Get(k); len(v) > 0 {
		return v[0]
	}
	return ""
}
func (c metadataCarrier) Set(k, v string) { metadata.MD(c).Set(k, v) }
func (c metadataCarrier) Keys() []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	return out
}
