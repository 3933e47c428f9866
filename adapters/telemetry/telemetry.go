package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/otel"
	promexporter "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// DefaultServiceName is the service.name resource attribute used when
// [Config.ServiceName] is empty and OTEL_SERVICE_NAME is unset.
const DefaultServiceName = "groundcam-gateway"

// Config is the service identity that [Setup] puts on every span and metric.
type Config struct {
	// ServiceName is the service.name resource attribute. Empty means
	// [DefaultServiceName].
	ServiceName string
	// ServiceVersion is the service.version resource attribute. Empty leaves
	// the attribute out.
	ServiceVersion string
}

// Option changes how [Setup] builds the providers. Options apply in order.
type Option interface {
	apply(*options)
}

type options struct {
	spanExporters  []sdktrace.SpanExporter
	spanProcessors []sdktrace.SpanProcessor
	metricReaders  []sdkmetric.Reader
	skipEnv        bool
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithSpanExporter adds an exporter behind a batch span processor, in
// addition to the one chosen by OTEL_TRACES_EXPORTER. Spans reach it after
// [Telemetry.Shutdown] or a ForceFlush of [Telemetry.TracerProvider].
func WithSpanExporter(exporter sdktrace.SpanExporter) Option {
	return optionFunc(func(o *options) {
		o.spanExporters = append(o.spanExporters, exporter)
	})
}

// WithSpanProcessor adds a span processor, such as a
// tracetest.SpanRecorder, which receives every span when it starts and ends.
func WithSpanProcessor(processor sdktrace.SpanProcessor) Option {
	return optionFunc(func(o *options) {
		o.spanProcessors = append(o.spanProcessors, processor)
	})
}

// WithMetricReader adds a metric reader, such as an sdkmetric.ManualReader,
// in addition to the Prometheus reader and the one chosen by
// OTEL_METRICS_EXPORTER.
func WithMetricReader(reader sdkmetric.Reader) Option {
	return optionFunc(func(o *options) {
		o.metricReaders = append(o.metricReaders, reader)
	})
}

// WithoutEnvExporters makes [Setup] ignore OTEL_TRACES_EXPORTER and
// OTEL_METRICS_EXPORTER, so that only the injected exporters and readers and
// the Prometheus reader receive data. Tests use it to stay independent of
// the environment they run in.
func WithoutEnvExporters() Option {
	return optionFunc(func(o *options) { o.skipEnv = true })
}

// Telemetry owns the tracer and meter providers built by [Setup]. Its methods
// are safe for concurrent use.
type Telemetry struct {
	tracerProvider *sdktrace.TracerProvider
	meterProvider  *sdkmetric.MeterProvider
	propagator     propagation.TextMapPropagator
	admin          http.Handler

	shutdownOnce sync.Once
	shutdownErr  error
}

// Setup builds the tracer provider, the meter provider and the propagator,
// and sets the global propagator to W3C TraceContext plus Baggage. It does
// not set the global tracer or meter provider.
//
// Exporters are chosen by the standard environment variables, read through
// go.opentelemetry.io/contrib/exporters/autoexport:
//
//   - OTEL_TRACES_EXPORTER: otlp, console or none.
//   - OTEL_METRICS_EXPORTER: otlp, console, prometheus or none. The
//     prometheus value starts a second scrape server on
//     OTEL_EXPORTER_PROMETHEUS_HOST:OTEL_EXPORTER_PROMETHEUS_PORT (default
//     localhost:9464), which is rarely needed because
//     [Telemetry.AdminHandler] serves the same metrics.
//   - OTEL_EXPORTER_OTLP_PROTOCOL (and its _TRACES_ and _METRICS_ variants):
//     grpc or http/protobuf (the default).
//   - OTEL_EXPORTER_OTLP_ENDPOINT and the other OTEL_EXPORTER_OTLP_* settings
//     are read by the OTLP exporters themselves.
//
// When OTEL_TRACES_EXPORTER or OTEL_METRICS_EXPORTER is unset or empty, that
// signal is exported nowhere, unlike the OpenTelemetry default of otlp, so a
// first run never tries to reach a collector. Metrics are still served by
// [Telemetry.AdminHandler] in every case.
//
// Sampling follows OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG. Without
// them every root span is sampled. The resource carries service.name and
// service.version from cfg, overridden by OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES when set.
//
// Setup reports every invalid exporter, protocol and sampler value in one
// error. The caller
// must call [Telemetry.Shutdown] to flush and stop the exporters.
func Setup(ctx context.Context, cfg Config, opts ...Option) (*Telemetry, error) {
	var o options
	for _, opt := range opts {
		opt.apply(&o)
	}

	res, err := newResource(ctx, cfg)
	if err != nil {
		return nil, err
	}

	var env envExporters
	if !o.skipEnv {
		env, err = newEnvExporters(ctx)
		if err != nil {
			return nil, err
		}
	}

	// The Prometheus reader gets a registry of its own, so that several
	// providers can live in one process (as in parallel tests) and so that
	// /metrics shows only what this provider and the Go runtime report.
	registry := prometheus.NewRegistry()
	promReader, err := newPrometheusReader(registry)
	if err != nil {
		return nil, errors.Join(err, env.shutdown(ctx))
	}

	t := &Telemetry{
		tracerProvider: newTracerProvider(res, &o, env.spanExporter),
		meterProvider:  newMeterProvider(res, &o, env.metricReader, promReader),
		propagator: propagation.NewCompositeTextMapPropagator(
			propagation.TraceContext{},
			propagation.Baggage{},
		),
		admin: newAdminHandler(registry),
	}
	otel.SetTextMapPropagator(t.propagator)
	return t, nil
}

func newResource(ctx context.Context, cfg Config) (*resource.Resource, error) {
	name := cfg.ServiceName
	if name == "" {
		name = DefaultServiceName
	}
	attrs := []resource.Option{
		resource.WithAttributes(semconv.ServiceName(name)),
	}
	if cfg.ServiceVersion != "" {
		attrs = append(attrs, resource.WithAttributes(semconv.ServiceVersion(cfg.ServiceVersion)))
	}

	// Later options override earlier ones, so the environment wins over cfg.
	attrs = append(attrs, resource.WithTelemetrySDK(), resource.WithFromEnv())
	res, err := resource.New(ctx, attrs...)
	if err != nil {
		return nil, fmt.Errorf("build telemetry resource (check OTEL_RESOURCE_ATTRIBUTES "+
			"is a comma-separated list of key=value pairs): %w", err)
	}
	return res, nil
}

func newPrometheusReader(registry *prometheus.Registry) (sdkmetric.Reader, error) {
	err := errors.Join(
		registry.Register(collectors.NewGoCollector()),
		registry.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})),
	)
	if err != nil {
		return nil, fmt.Errorf("register runtime collectors: %w", err)
	}

	reader, err := promexporter.New(
		promexporter.WithRegisterer(registry),
		promexporter.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
	)
	if err != nil {
		return nil, fmt.Errorf("create prometheus exporter: %w", err)
	}
	return reader, nil
}

func newTracerProvider(
	res *resource.Resource,
	o *options,
	envExporter sdktrace.SpanExporter,
) *sdktrace.TracerProvider {
	tpOpts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if envExporter != nil {
		tpOpts = append(tpOpts, sdktrace.WithBatcher(envExporter))
	}
	for _, exporter := range o.spanExporters {
		tpOpts = append(tpOpts, sdktrace.WithBatcher(exporter))
	}
	for _, processor := range o.spanProcessors {
		tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(processor))
	}
	return sdktrace.NewTracerProvider(tpOpts...)
}

func newMeterProvider(
	res *resource.Resource,
	o *options,
	envReader sdkmetric.Reader,
	promReader sdkmetric.Reader,
) *sdkmetric.MeterProvider {
	mpOpts := []sdkmetric.Option{
		sdkmetric.WithResource(res),
		sdkmetric.WithReader(promReader),
	}
	if envReader != nil {
		mpOpts = append(mpOpts, sdkmetric.WithReader(envReader))
	}
	for _, reader := range o.metricReaders {
		mpOpts = append(mpOpts, sdkmetric.WithReader(reader))
	}
	return sdkmetric.NewMeterProvider(mpOpts...)
}

func newAdminHandler(registry *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{
		Registry: registry, // counts failed scrapes in promhttp_metric_handler_errors_total
	}))
	return mux
}

// TracerProvider returns the SDK tracer provider built by [Setup].
func (t *Telemetry) TracerProvider() *sdktrace.TracerProvider { return t.tracerProvider }

// MeterProvider returns the SDK meter provider built by [Setup].
func (t *Telemetry) MeterProvider() *sdkmetric.MeterProvider { return t.meterProvider }

// Propagator returns the W3C TraceContext plus Baggage propagator that
// [Setup] also installed as the global one.
func (t *Telemetry) Propagator() propagation.TextMapPropagator { return t.propagator }

// AdminHandler returns a handler that serves GET /metrics in the Prometheus
// text format, with every metric recorded through [Telemetry.MeterProvider]
// plus Go runtime and process metrics. Other paths get 404. Mount it on an
// admin listener, not on the public API port.
func (t *Telemetry) AdminHandler() http.Handler { return t.admin }

// Shutdown flushes pending spans and metrics to the exporters and stops the
// providers, their readers and exporters. ctx bounds the time spent on the
// flush. Calls after the first return the first call's result.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	t.shutdownOnce.Do(func() {
		err := errors.Join(
			t.tracerProvider.Shutdown(ctx),
			t.meterProvider.Shutdown(ctx),
		)
		if err != nil {
			t.shutdownErr = fmt.Errorf("shut down telemetry: %w", err)
		}
	})
	return t.shutdownErr
}
