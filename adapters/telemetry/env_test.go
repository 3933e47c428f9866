package telemetry

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/contrib/exporters/autoexport"
)

// otelEnv lists the variables that tests of the environment set, so that the
// environment of the test run cannot leak into them.
var otelEnv = []string{
	"OTEL_TRACES_EXPORTER",
	"OTEL_METRICS_EXPORTER",
	"OTEL_METRICS_PRODUCERS",
	"OTEL_EXPORTER_OTLP_PROTOCOL",
	"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
	"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
	"OTEL_EXPORTER_OTLP_ENDPOINT",
	"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
	"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
	"OTEL_EXPORTER_OTLP_HEADERS",
	"OTEL_TRACES_SAMPLER",
	"OTEL_TRACES_SAMPLER_ARG",
	"OTEL_SERVICE_NAME",
	"OTEL_RESOURCE_ATTRIBUTES",
	"OTEL_SDK_DISABLED",
	"OTEL_EXPORTER_PROMETHEUS_HOST",
	"OTEL_EXPORTER_PROMETHEUS_PORT",
}

// setEnv clears every variable in otelEnv, then sets the given pairs.
// Tests that call it cannot run in parallel.
func setEnv(t *testing.T, pairs map[string]string) {
	t.Helper()
	for _, name := range otelEnv {
		t.Setenv(name, "")
	}
	for name, value := range pairs {
		t.Setenv(name, value)
	}
}

func TestValidateEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string // substrings of the error, or none when the values are valid
	}{
		{name: "empty", env: nil},
		{name: "all valid", env: map[string]string{
			"OTEL_TRACES_EXPORTER":                "otlp",
			"OTEL_METRICS_EXPORTER":               "prometheus",
			"OTEL_EXPORTER_OTLP_PROTOCOL":         "grpc",
			"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/protobuf",
			"OTEL_TRACES_SAMPLER":                 "parentbased_traceidratio",
			"OTEL_TRACES_SAMPLER_ARG":             "0.25",
		}},
		{name: "ignored sampler arg", env: map[string]string{
			"OTEL_TRACES_SAMPLER":     "always_on",
			"OTEL_TRACES_SAMPLER_ARG": "anything",
		}},
		{name: "unknown exporter", env: map[string]string{"OTEL_TRACES_EXPORTER": "jaeger"},
			wantErr: []string{`OTEL_TRACES_EXPORTER "jaeger"`, "otlp, console, none"}},
		{name: "prometheus traces", env: map[string]string{"OTEL_TRACES_EXPORTER": "prometheus"},
			wantErr: []string{`OTEL_TRACES_EXPORTER "prometheus"`}},
		{name: "exporter list", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp,console"},
			wantErr: []string{`OTEL_METRICS_EXPORTER "otlp,console"`}},
		{name: "upper case", env: map[string]string{"OTEL_METRICS_EXPORTER": "OTLP"},
			wantErr: []string{`OTEL_METRICS_EXPORTER "OTLP"`}},
		{name: "json protocol", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"},
			wantErr: []string{`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL "http/json"`, "grpc, http/protobuf"}},
		{name: "unknown sampler", env: map[string]string{"OTEL_TRACES_SAMPLER": "jaeger_remote"},
			wantErr: []string{`OTEL_TRACES_SAMPLER "jaeger_remote"`}},
		{name: "ratio above one", env: map[string]string{
			"OTEL_TRACES_SAMPLER":     "traceidratio",
			"OTEL_TRACES_SAMPLER_ARG": "1.5",
		}, wantErr: []string{`OTEL_TRACES_SAMPLER_ARG "1.5"`, "between 0 and 1"}},
		{name: "ratio not a number", env: map[string]string{
			"OTEL_TRACES_SAMPLER":     "parentbased_traceidratio",
			"OTEL_TRACES_SAMPLER_ARG": "ten percent",
		}, wantErr: []string{`OTEL_TRACES_SAMPLER_ARG "ten percent"`}},
		{name: "every problem at once", env: map[string]string{
			"OTEL_TRACES_EXPORTER":        "zipkin",
			"OTEL_METRICS_EXPORTER":       "statsd",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "udp",
		}, wantErr: []string{"zipkin", "statsd", "udp"}},
	}
	for _, tt := range tests {
		err := validateEnv(func(name string) string { return tt.env[name] })
		if len(tt.wantErr) == 0 {
			if err != nil {
				t.Errorf("%s: validateEnv: %v", tt.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: validateEnv succeeded, want an error", tt.name)
			continue
		}
		for _, want := range tt.wantErr {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not contain %q", tt.name, err, want)
			}
		}
	}
}

func TestNewEnvExporters(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		wantSpans  bool
		wantReader bool
	}{
		{name: "unset", env: nil},
		{name: "none", env: map[string]string{
			"OTEL_TRACES_EXPORTER":  "none",
			"OTEL_METRICS_EXPORTER": "none",
		}},
		{name: "console", env: map[string]string{
			"OTEL_TRACES_EXPORTER":  "console",
			"OTEL_METRICS_EXPORTER": "console",
		}, wantSpans: true, wantReader: true},
		{name: "otlp grpc", env: map[string]string{
			"OTEL_TRACES_EXPORTER":        "otlp",
			"OTEL_METRICS_EXPORTER":       "none",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
			// Nothing is exported in this test, so nothing connects.
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
		}, wantSpans: true},
		{name: "prometheus", env: map[string]string{
			"OTEL_METRICS_EXPORTER":         "prometheus",
			"OTEL_EXPORTER_PROMETHEUS_HOST": "127.0.0.1",
			"OTEL_EXPORTER_PROMETHEUS_PORT": "0", // any free port
		}, wantReader: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			ctx := context.Background()

			env, err := newEnvExporters(ctx)
			if err != nil {
				t.Fatalf("newEnvExporters: %v", err)
			}
			t.Cleanup(func() {
				if err := env.shutdown(ctx); err != nil {
					t.Errorf("shut down exporters: %v", err)
				}
			})

			if got := env.spanExporter != nil; got != tt.wantSpans {
				t.Errorf("span exporter created = %v, want %v", got, tt.wantSpans)
			}
			if got := env.metricReader != nil; got != tt.wantReader {
				t.Errorf("metric reader created = %v, want %v", got, tt.wantReader)
			}
			if env.spanExporter != nil && autoexport.IsNoneSpanExporter(env.spanExporter) {
				t.Error("span exporter is the no-op exporter, want it left out")
			}
		})
	}
}

func TestSetupRejectsInvalidEnv(t *testing.T) {
	setEnv(t, map[string]string{
		"OTEL_TRACES_EXPORTER":  "jaeger",
		"OTEL_METRICS_EXPORTER": "statsd",
	})

	tel, err := Setup(context.Background(), Config{})
	if err == nil {
		_ = tel.Shutdown(context.Background())
		t.Fatal("Setup succeeded with invalid exporters")
	}
	for _, want := range []string{`OTEL_TRACES_EXPORTER "jaeger"`, `OTEL_METRICS_EXPORTER "statsd"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}
