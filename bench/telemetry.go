package bench

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// TraceSampleRatio is the share of new traces that the traced rung
// samples, a common production setting.
const TraceSampleRatio = 0.1

// providers are the tracer and meter providers of one gateway rung.
type providers struct {
	tracer trace.TracerProvider
	meter  metric.MeterProvider
	// shutdown flushes and stops the SDK providers; nil for no-op ones.
	shutdown func(context.Context) error
}

// noopProviders record nothing: the untraced rungs.
func noopProviders() providers {
	return providers{tracer: tracenoop.NewTracerProvider(), meter: metricnoop.NewMeterProvider()}
}

// sdkProviders are what a production gateway runs: an SDK tracer provider
// that samples [TraceSampleRatio] of new traces, follows the caller's
// sampling decision, and batches spans to an exporter (here one that
// discards them), and an SDK meter provider that aggregates every metric
// for a reader (here one that is never collected).
func sdkProviders() providers {
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(TraceSampleRatio))),
		sdktrace.WithBatcher(discardExporter{}),
	)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	return providers{
		tracer: tp,
		meter:  mp,
		shutdown: func(ctx context.Context) error {
			return errors.Join(tp.Shutdown(ctx), mp.Shutdown(ctx))
		},
	}
}

// discardExporter drops every span it receives.
type discardExporter struct{}

var _ sdktrace.SpanExporter = discardExporter{}

// ExportSpans drops spans.
func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }

// Shutdown does nothing.
func (discardExporter) Shutdown(context.Context) error { return nil }
