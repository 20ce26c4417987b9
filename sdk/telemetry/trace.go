package telemetry

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
)

// EndpointEnv names the variable through which the host hands its
// telemetry.otlp.endpoint to the plugins it launches.
const EndpointEnv = "SOUS_OTLP_ENDPOINT"

// AttrInvocation is the span attribute every Sous span about an invocation carries.
const AttrInvocation = attribute.Key("sous.invocation_id")

var (
	enabled atomic.Bool
	prop    = propagation.TraceContext{}
)

// Enabled reports whether this process exports traces. When it does not, every
// helper here returns at once without allocating: tracing off costs nothing.
func Enabled() bool { return enabled.Load() }

// Setup exports the spans of service over OTLP/gRPC (plaintext) to endpoint
// (host:port). An empty endpoint leaves tracing off. The returned function flushes
// and stops the exporter; call it before the process exits.
func Setup(ctx context.Context, service, endpoint string) (shutdown func(context.Context) error, err error) {
	if endpoint == "" {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
	if err != nil {
		return nil, fmt.Errorf("telemetry.otlp.endpoint %s: %w", endpoint, err)
	}
	res := resource.NewSchemaless(semconv.ServiceName(service))
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res),
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Second)))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(prop)
	enabled.Store(true)
	return func(ctx context.Context) error {
		enabled.Store(false)
		return tp.Shutdown(ctx)
	}, nil
}

// Start begins a span about an invocation (its id as AttrInvocation) under the span
// in ctx. With tracing off it returns ctx and the no-op span already in it.
func Start(ctx context.Context, name, invocationID string, kind trace.SpanKind, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	if !enabled.Load() {
		return ctx, trace.SpanFromContext(ctx)
	}
	ctx = WithInvocation(ctx, invocationID)
	return otel.Tracer("github.com/sous-run/sous").Start(ctx, name, trace.WithSpanKind(kind),
		trace.WithAttributes(append(attrs, AttrInvocation.String(invocationID))...))
}

// Traceparent is the W3C traceparent of the span in ctx ("" when there is none or
// tracing is off).
func Traceparent(ctx context.Context) string {
	if !enabled.Load() {
		return ""
	}
	c := propagation.MapCarrier{}
	prop.Inject(ctx, c)
	return c["traceparent"]
}

// WithTraceparent continues the trace named by a W3C traceparent (a remote parent);
// ctx is returned as is when tp is empty or tracing is off.
func WithTraceparent(ctx context.Context, tp string) context.Context {
	if tp == "" || !enabled.Load() {
		return ctx
	}
	return prop.Extract(ctx, propagation.MapCarrier{"traceparent": tp})
}

// Extract continues the trace in a carrier of incoming headers (HTTP, gRPC metadata).
func Extract(ctx context.Context, c propagation.TextMapCarrier) context.Context {
	if !enabled.Load() {
		return ctx
	}
	return prop.Extract(ctx, c)
}

type invocationKey struct{}

// WithInvocation notes the invocation a context works for, so calls made with it to a
// plugin carry the id (and the plugin's spans name it).
func WithInvocation(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return context.WithValue(ctx, invocationKey{}, id)
}

// InvocationID is the invocation ctx works for ("" when none).
func InvocationID(ctx context.Context) string {
	id, _ := ctx.Value(invocationKey{}).(string)
	return id
}
