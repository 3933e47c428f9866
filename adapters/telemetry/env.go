package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The exporter names accepted in OTEL_TRACES_EXPORTER and
// OTEL_METRICS_EXPORTER. The autoexport package compares them case-sensitively.
const (
	exporterNone       = "none"
	exporterOTLP       = "otlp"
	exporterConsole    = "console"
	exporterPrometheus = "prometheus"
)

// envRule is one environment variable with the values it accepts.
type envRule struct {
	name    string
	allowed []string
}

var envRules = []envRule{
	{"OTEL_TRACES_EXPORTER", []string{exporterOTLP, exporterConsole, exporterNone}},
	{"OTEL_METRICS_EXPORTER", []string{
		exporterOTLP, exporterConsole, exporterPrometheus, exporterNone,
	}},
	{"OTEL_EXPORTER_OTLP_PROTOCOL", []string{"grpc", "http/protobuf"}},
	{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", []string{"grpc", "http/protobuf"}},
	{"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", []string{"grpc", "http/protobuf"}},
}

// samplers lists the OTEL_TRACES_SAMPLER values that the trace SDK accepts,
// compared after trimming and lower-casing as the SDK does.
var samplers = []string{
	"always_on", "always_off", "traceidratio",
	"parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio",
}

// envExporters holds what OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER
// selected. A nil field means that signal is not exported.
type envExporters struct {
	spanExporter sdktrace.SpanExporter
	metricReader sdkmetric.Reader
}

// newEnvExporters validates the OTEL_* variables and creates the selected
// exporters. An unset or empty exporter variable selects none.
func newEnvExporters(ctx context.Context) (envExporters, error) {
	if err := validateEnv(os.Getenv); err != nil {
		return envExporters{}, err
	}

	var env envExporters
	if exportsSignal(os.Getenv("OTEL_TRACES_EXPORTER")) {
		exporter, err := autoexport.NewSpanExporter(ctx)
		if err != nil {
			return envExporters{}, fmt.Errorf("create span exporter from OTEL_TRACES_EXPORTER: %w", err)
		}
		env.spanExporter = exporter
	}

	if exportsSignal(os.Getenv("OTEL_METRICS_EXPORTER")) {
		reader, err := autoexport.NewMetricReader(ctx)
		if err != nil {
			err = fmt.Errorf("create metric reader from OTEL_METRICS_EXPORTER: %w", err)
			return envExporters{}, errors.Join(err, env.shutdown(ctx))
		}
		env.metricReader = reader
	}
	return env, nil
}

// exportsSignal reports whether an exporter variable's value selects a real
// exporter. The OpenTelemetry default for an unset variable is otlp, but the
// gateway exports nothing unless asked.
func exportsSignal(value string) bool {
	return value != "" && value != exporterNone
}

// shutdown stops the exporters that were created, for when Setup fails
// after creating them.
func (e envExporters) shutdown(ctx context.Context) error {
	var errs []error
	if e.spanExporter != nil {
		errs = append(errs, e.spanExporter.Shutdown(ctx))
	}
	if e.metricReader != nil {
		errs = append(errs, e.metricReader.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// validateEnv checks every variable in envRules and the sampler settings,
// and returns all problems in one error. getenv is os.Getenv outside tests.
func validateEnv(getenv func(string) string) error {
	var errs []error
	for _, rule := range envRules {
		value := getenv(rule.name)
		if value == "" || slices.Contains(rule.allowed, value) {
			continue
		}
		errs = append(errs, fmt.Errorf("invalid %s %q: use one of %s, or leave it unset",
			rule.name, value, strings.Join(rule.allowed, ", ")))
	}
	errs = append(errs, validateSampler(getenv)...)
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid telemetry environment: %w", errors.Join(errs...))
}

// validateSampler checks OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG.
// The trace SDK only logs a bad value and then samples everything, which
// hides the mistake, so Setup rejects it instead.
func validateSampler(getenv func(string) string) []error {
	sampler := strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER")))
	if sampler == "" {
		return nil
	}
	if !slices.Contains(samplers, sampler) {
		return []error{fmt.Errorf("invalid OTEL_TRACES_SAMPLER %q: use one of %s",
			sampler, strings.Join(samplers, ", "))}
	}

	// Only the ratio samplers read the argument.
	arg := strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER_ARG"))
	if arg == "" || !strings.HasSuffix(sampler, "traceidratio") {
		return nil
	}
	ratio, err := strconv.ParseFloat(arg, 64)
	if err != nil || ratio < 0 || ratio > 1 {
		return []error{fmt.Errorf("invalid OTEL_TRACES_SAMPLER_ARG %q for %s: "+
			"use a ratio between 0 and 1, such as 0.25", arg, sampler)}
	}
	return nil
}
