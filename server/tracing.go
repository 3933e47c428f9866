package server

import (
	"context"
	"errors"
	"fmt"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
)

// TracingConfig configures [NewTracingInterceptor]. The zero value uses the
// global providers and propagator and does not trust callers' trace context.
type TracingConfig struct {
	// TracerProvider creates the RPC server spans. Nil means the global
	// provider.
	TracerProvider trace.TracerProvider
	// MeterProvider records rpc.server.call.duration. Nil means the global
	// provider.
	MeterProvider metric.MeterProvider
	// Propagator reads the caller's trace context from the request
	// headers. Nil means the global propagator.
	Propagator propagation.TextMapPropagator
	// TrustRemote makes the RPC span a child of the caller's span, so the
	// call joins the caller's trace. When false, every call starts a new
	// trace whose root span links to the caller's span, and the caller's
	// baggage is dropped.
	TrustRemote bool
}

// tracedAttributes is the allow-list of the attributes that the RPC spans
// and rpc.server.call.duration may carry from otelconnect. Every value is
// bounded: a protocol, a procedure the server serves, or a code. The peer's
// address is never recorded.
var tracedAttributes = map[attribute.Key]bool{
	semconv.RPCSystemNameKey:          true,
	semconv.RPCMethodKey:              true,
	semconv.RPCResponseStatusCodeKey:  true,
	semconv.ErrorTypeKey:              true,
	semconv.HTTPResponseStatusCodeKey: true, // 304 Not Modified only
}

// otherReason is logged in place of an ErrorInfo reason that
// [isPlainReason] rejects, as the semantic conventions record unknown
// values.
const otherReason = "_OTHER"

// maxReasonLength bounds an ErrorInfo reason that is recorded as a span
// status description or logged. The longest codes of the contract and the
// gateway, such as INVALID_FILTER_COMBINATION, have fewer than 30
// characters.
const maxReasonLength = 64

// tracingInterceptor runs otelconnect's interceptor and keeps error
// messages out of the spans it records.
type tracingInterceptor struct {
	otel *otelconnect.Interceptor
}

var _ connect.Interceptor = (*tracingInterceptor)(nil)

// NewTracingInterceptor returns the interceptor that traces and measures
// every call that the server handles, on every face. Put it first in
// [Config.Interceptors], before the access log interceptor, so that the
// access log lines carry the call's trace and span ids.
//
// Each call gets a server span named after its procedure, such as
// "groundcam.v1.SessionService/GetSession", and a sample of the
// rpc.server.call.duration histogram (seconds), whose count is the number
// of calls. Spans and samples carry only rpc.system.name, rpc.method,
// rpc.response.status_code and error.type. The span status of a failed call
// is described by its ErrorInfo reason (such as UPSTREAM_TIMEOUT) or its
// code, never by its message, because messages can quote request fields,
// upstream bodies and URLs. The caller still receives the full error.
func NewTracingInterceptor(cfg TracingConfig) (connect.Interceptor, error) {
	if cfg.TracerProvider == nil {
		cfg.TracerProvider = otel.GetTracerProvider()
	}
	if cfg.MeterProvider == nil {
		cfg.MeterProvider = otel.GetMeterProvider()
	}
	if cfg.Propagator == nil {
		cfg.Propagator = otel.GetTextMapPropagator()
	}

	opts := []otelconnect.Option{
		otelconnect.WithTracerProvider(cfg.TracerProvider),
		otelconnect.WithMeterProvider(cfg.MeterProvider),
		otelconnect.WithAttributeFilter(keepTracedAttribute),
	}
	if cfg.TrustRemote {
		opts = append(opts,
			otelconnect.WithPropagator(cfg.Propagator),
			otelconnect.WithTrustRemote())
	} else {
		opts = append(opts, otelconnect.WithPropagator(withoutBaggage{cfg.Propagator}))
	}
	inner, err := otelconnect.NewInterceptor(opts...)
	if err != nil {
		return nil, fmt.Errorf("create tracing interceptor: %w", err)
	}
	return &tracingInterceptor{otel: inner}, nil
}

func keepTracedAttribute(_ connect.Spec, kv attribute.KeyValue) bool {
	return tracedAttributes[kv.Key]
}

// WrapUnary traces a unary call. The function that otelconnect wraps
// hands it a redacted copy of the call's error and keeps the original,
// which the returned function gives back to the caller.
func (t *tracingInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	traced := t.otel.WrapUnary(func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		res, err := next(ctx, req)
		return res, keepError(ctx, err)
	})
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		slot := &errorSlot{}
		res, err := traced(context.WithValue(ctx, errorSlotKey{}, slot), req)
		return res, slot.restore(err)
	}
}

// WrapStreamingClient leaves client streams alone: the server makes no
// Connect client calls.
func (t *tracingInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler traces a streaming call, with the same redaction
// as [tracingInterceptor.WrapUnary].
//
// NOTE: every gateway RPC is unary, so no test runs this path.
func (t *tracingInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	traced := t.otel.WrapStreamingHandler(func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		return keepError(ctx, next(ctx, conn))
	})
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		slot := &errorSlot{}
		err := traced(context.WithValue(ctx, errorSlotKey{}, slot), conn)
		return slot.restore(err)
	}
}

// errorSlot carries a call's original error past otelconnect. One call
// writes it and then reads it, in that order, on one goroutine.
type errorSlot struct {
	err error
}

type errorSlotKey struct{}

// keepError stores err in the slot of ctx and returns the error that
// otelconnect records instead: same code, with the ErrorInfo reason or the
// code's name as its message.
func keepError(ctx context.Context, err error) error {
	slot, ok := ctx.Value(errorSlotKey{}).(*errorSlot)
	if !ok || err == nil || connect.IsNotModifiedError(err) {
		return err
	}
	slot.err = err
	return redactedError(err)
}

// restore returns the original error when keepError stored one, and err
// otherwise (nil, or an error that otelconnect raised itself).
func (s *errorSlot) restore(err error) error {
	if err != nil && s.err != nil {
		return s.err
	}
	return err
}

func redactedError(err error) error {
	code := connect.CodeOf(err)
	description := code.String()
	if info, ok := upstream.ErrorInfoOf(err); ok && isPlainReason(info.GetReason()) {
		description = info.GetReason()
	}
	return connect.NewError(code, errors.New(description))
}

// isPlainReason reports whether reason is a short identifier of letters,
// digits, '_', '.' and '-', as every reason the gateway and the contract
// define is. Others may come from a malformed upstream body and could
// carry any text.
func isPlainReason(reason string) bool {
	if reason == "" || len(reason) > maxReasonLength {
		return false
	}
	for _, c := range reason {
		isLetter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		isDigit := c >= '0' && c <= '9'
		if !isLetter && !isDigit && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// withoutBaggage extracts the trace context of an untrusted caller and
// drops its baggage, so that the caller's entries never reach the
// upstream's requests.
type withoutBaggage struct {
	propagation.TextMapPropagator
}

// Extract returns ctx with the carrier's span context and no baggage.
func (p withoutBaggage) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	return baggage.ContextWithoutBaggage(p.TextMapPropagator.Extract(ctx, carrier))
}
