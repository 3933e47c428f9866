package telemetry

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.uber.org/goleak"
)

func setupForTest(t *testing.T, cfg Config, opts ...Option) *Telemetry {
	t.Helper()
	tel, err := Setup(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	t.Cleanup(func() {
		if err := tel.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return tel
}

func TestSetupWithEnvExporters(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"unset", nil},
		{"none", map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none"}},
		{"console traces", map[string]string{
			"OTEL_TRACES_EXPORTER":  "console",
			"OTEL_METRICS_EXPORTER": "none",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			tel := setupForTest(t, Config{ServiceVersion: "1.2.3"})

			_, span := tel.TracerProvider().Tracer("test").Start(context.Background(), "setup-check")
			span.End()
			if err := tel.TracerProvider().ForceFlush(context.Background()); err != nil {
				t.Errorf("ForceFlush: %v", err)
			}
		})
	}
}

// otlpCollector is an httptest server that stores the OTLP/HTTP requests it
// receives, keyed by path.
type otlpCollector struct {
	server *httptest.Server

	mu     sync.Mutex
	bodies map[string][]byte
}

func newOTLPCollector(t *testing.T) *otlpCollector {
	t.Helper()
	c := &otlpCollector{bodies: make(map[string][]byte)}
	c.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.bodies[r.URL.Path] = append(c.bodies[r.URL.Path], body...)
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(c.server.Close)
	return c
}

func (c *otlpCollector) body(path string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bodies[path]
}

func TestSetupExportsOTLPHTTP(t *testing.T) {
	collector := newOTLPCollector(t)
	setEnv(t, map[string]string{
		"OTEL_TRACES_EXPORTER":        "otlp",
		"OTEL_METRICS_EXPORTER":       "otlp",
		"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
		"OTEL_EXPORTER_OTLP_ENDPOINT": collector.server.URL,
	})
	ctx := context.Background()
	tel, err := Setup(ctx, Config{ServiceName: "otlp-check-service"})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}

	_, span := tel.TracerProvider().Tracer("test").Start(ctx, "otlp-check-span")
	span.End()
	counter, err := tel.MeterProvider().Meter("test").Int64Counter("otlp.check.counter")
	if err != nil {
		t.Fatalf("create counter: %v", err)
	}
	counter.Add(ctx, 1)
	if err := tel.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}

	// OTLP protobuf stores strings as raw bytes, so a byte search finds them.
	traces := collector.body("/v1/traces")
	for _, want := range []string{"otlp-check-span", "otlp-check-service"} {
		if !bytes.Contains(traces, []byte(want)) {
			t.Errorf("/v1/traces payload lacks %q (%d bytes)", want, len(traces))
		}
	}
	metrics := collector.body("/v1/metrics")
	if !bytes.Contains(metrics, []byte("otlp.check.counter")) {
		t.Errorf("/v1/metrics payload lacks otlp.check.counter (%d bytes)", len(metrics))
	}
}

func TestSetupResource(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		cfg         Config
		wantName    string
		wantVersion string // empty means absent
		wantEnvAttr bool
	}{
		{name: "default", wantName: DefaultServiceName},
		{name: "config", cfg: Config{ServiceName: "gw", ServiceVersion: "1.4.0"},
			wantName: "gw", wantVersion: "1.4.0"},
		{name: "env wins", cfg: Config{ServiceName: "gw", ServiceVersion: "1.4.0"},
			env: map[string]string{
				"OTEL_SERVICE_NAME":        "gw-canary",
				"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=staging",
			},
			wantName: "gw-canary", wantVersion: "1.4.0", wantEnvAttr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			recorder := tracetest.NewSpanRecorder()
			tel := setupForTest(t, tt.cfg, WithoutEnvExporters(), WithSpanProcessor(recorder))

			_, span := tel.TracerProvider().Tracer("test").Start(context.Background(), "resource-check")
			span.End()
			ended := recorder.Ended()
			if len(ended) != 1 {
				t.Fatalf("ended spans = %d, want 1", len(ended))
			}
			attrs := ended[0].Resource().Attributes()
			wantAttr(t, attrs, semconv.ServiceNameKey, tt.wantName)
			if tt.wantVersion == "" {
				wantNoAttr(t, attrs, semconv.ServiceVersionKey)
			} else {
				wantAttr(t, attrs, semconv.ServiceVersionKey, tt.wantVersion)
			}
			if tt.wantEnvAttr {
				wantAttr(t, attrs, "deployment.environment.name", "staging")
			}
		})
	}
}

func TestSetupRejectsBadResourceAttributes(t *testing.T) {
	setEnv(t, map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "no-equals-sign"})

	tel, err := Setup(context.Background(), Config{})
	if err == nil {
		_ = tel.Shutdown(context.Background())
		t.Fatal("Setup succeeded with malformed OTEL_RESOURCE_ATTRIBUTES")
	}
	if !strings.Contains(err.Error(), "OTEL_RESOURCE_ATTRIBUTES") {
		t.Errorf("error %q does not name OTEL_RESOURCE_ATTRIBUTES", err)
	}
}

func TestAdminHandlerServesMetrics(t *testing.T) {
	t.Parallel()
	tel := setupForTest(t, Config{}, WithoutEnvExporters())
	up := newUpstream(t, http.StatusOK)
	client := &http.Client{Transport: NewTransport(up.server.Client().Transport,
		tel.TracerProvider(), tel.MeterProvider())}

	ctx := WithRoute(context.Background(), http.MethodGet, "/v1/sessions/{id}")
	closeBody(t, send(t, client, ctx, http.MethodGet, up.server.URL+"/v1/sessions/ses_8f3kq"))

	rec := httptest.NewRecorder()
	tel.AdminHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics status = %d, want 200", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		"http_client_request_duration_seconds_bucket",
		`http_route="/v1/sessions/{id}"`,
		`http_response_status_code="200"`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "ses_8f3kq") {
		t.Error("/metrics contains the raw session id")
	}

	for _, tt := range []struct{ method, path string }{
		{http.MethodGet, "/"},
		{http.MethodGet, "/metrics/extra"},
		{http.MethodPost, "/metrics"},
	} {
		rec := httptest.NewRecorder()
		tel.AdminHandler().ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code == http.StatusOK {
			t.Errorf("%s %s status = 200, want an error status", tt.method, tt.path)
		}
	}
}

func TestAdminHandlersAreSeparate(t *testing.T) {
	t.Parallel()
	first := setupForTest(t, Config{}, WithoutEnvExporters())
	second := setupForTest(t, Config{}, WithoutEnvExporters())

	counter, err := first.MeterProvider().Meter("test").Int64Counter("only.first")
	if err != nil {
		t.Fatalf("create counter: %v", err)
	}
	counter.Add(context.Background(), 1)

	rec := httptest.NewRecorder()
	second.AdminHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if strings.Contains(rec.Body.String(), "only_first") {
		t.Error("second handler serves a metric recorded through the first provider")
	}
}

// keepingExporter stores exported spans and, unlike
// tracetest.InMemoryExporter, keeps them after Shutdown.
type keepingExporter struct {
	mu    sync.Mutex
	names []string
}

var _ sdktrace.SpanExporter = (*keepingExporter)(nil)

func (e *keepingExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, span := range spans {
		e.names = append(e.names, span.Name())
	}
	return nil
}

func (e *keepingExporter) Shutdown(context.Context) error { return nil }

func (e *keepingExporter) spanNames() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.names)
}

func TestSetupInjectedRecorders(t *testing.T) {
	t.Parallel()
	exporter := &keepingExporter{}
	reader := sdkmetric.NewManualReader()
	ctx := context.Background()
	tel, err := Setup(ctx, Config{}, WithoutEnvExporters(),
		WithSpanExporter(exporter), WithMetricReader(reader))
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}

	_, span := tel.TracerProvider().Tracer("test").Start(ctx, "injected-check")
	span.End()
	counter, err := tel.MeterProvider().Meter("test").Int64Counter("injected.check")
	if err != nil {
		t.Fatalf("create counter: %v", err)
	}
	counter.Add(ctx, 3)

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatalf("collect: %v", err)
	}
	if len(rm.ScopeMetrics) != 1 || rm.ScopeMetrics[0].Metrics[0].Name != "injected.check" {
		t.Errorf("manual reader collected %+v, want injected.check", rm.ScopeMetrics)
	}

	if err := tel.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if got := exporter.spanNames(); !slices.Equal(got, []string{"injected-check"}) {
		t.Errorf("exported spans after Shutdown = %q, want injected-check", got)
	}
	if err := tel.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

func TestSetupPropagator(t *testing.T) {
	t.Parallel()
	tel := setupForTest(t, Config{}, WithoutEnvExporters())

	want := []string{"baggage", "traceparent", "tracestate"}
	got := tel.Propagator().Fields()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("Propagator().Fields() = %q, want %q", got, want)
	}
	global := otel.GetTextMapPropagator().Fields()
	slices.Sort(global)
	if !slices.Equal(global, want) {
		t.Errorf("global propagator fields = %q, want %q", global, want)
	}
}

func TestShutdownStopsGoroutines(t *testing.T) {
	// Not parallel: the goroutine check needs a quiet process.
	before := goleak.IgnoreCurrent()
	collector := newOTLPCollector(t)
	setEnv(t, map[string]string{
		"OTEL_TRACES_EXPORTER":        "otlp",
		"OTEL_METRICS_EXPORTER":       "console",
		"OTEL_EXPORTER_OTLP_ENDPOINT": collector.server.URL,
	})
	ctx := context.Background()
	tel, err := Setup(ctx, Config{}, WithSpanExporter(tracetest.NewInMemoryExporter()))
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	_, span := tel.TracerProvider().Tracer("test").Start(ctx, "goroutine-check")
	span.End()

	if err := tel.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	collector.server.Close()
	goleak.VerifyNone(t, before)
}
