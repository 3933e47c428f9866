package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/groundcam/groundcam-gateway/adapters/cache"
	"github.com/groundcam/groundcam-gateway/adapters/telemetry"
	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	"github.com/groundcam/groundcam-gateway/internal/testutil"
	"github.com/groundcam/groundcam-gateway/server"
	"github.com/groundcam/groundcam-gateway/simulator"
)

// telGateway is a gateway wired as cmd/gateway wires it: telemetry.Setup
// with an in-memory span recorder and metric reader, the instrumented
// upstream transport, a retry policy, the tracing interceptor and the
// access log, logging JSON to a buffer. The simulator and the gateway
// listen on loopback sockets, and the gateway speaks HTTP/1.1 and h2c.
type telGateway struct {
	t   *testing.T
	sim *simulator.Server
	// simURL is the simulator's root URL, without /v1.
	simURL string
	// url is the gateway's root URL.
	url string
	// key is the Acme demo key, which calls send as their bearer token.
	key     string
	tel     *telemetry.Telemetry
	spans   *tracetest.SpanRecorder
	metrics *sdkmetric.ManualReader
	logs    *testutil.LockedBuffer
	// http1 speaks HTTP/1.1 and h2c speaks HTTP/2 with prior knowledge.
	http1, h2c *http.Client
	// hookURL is an HTTPS endpoint on 127.0.0.1 that accepts webhooks.
	hookURL string
}

// telOptions changes how newTelGateway builds the gateway.
type telOptions struct {
	// distrust starts a new trace for every call instead of continuing
	// the caller's.
	distrust bool
	// cache adds a memory response cache.
	cache bool
}

// newTelGateway starts a simulator and an instrumented gateway in front of
// it. Everything stops when the test ends.
func newTelGateway(t *testing.T, opts telOptions) *telGateway {
	t.Helper()
	g := &telGateway{
		t:       t,
		spans:   tracetest.NewSpanRecorder(),
		metrics: sdkmetric.NewManualReader(),
		logs:    &testutil.LockedBuffer{},
	}
	hooks := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(hooks.Close)
	g.hookURL = hooks.URL

	tel, err := telemetry.Setup(context.Background(), telemetry.Config{},
		telemetry.WithSpanProcessor(g.spans),
		telemetry.WithMetricReader(g.metrics),
		telemetry.WithoutEnvExporters())
	if err != nil {
		t.Fatalf("telemetry.Setup: %v", err)
	}
	g.tel = tel
	t.Cleanup(func() {
		if err := tel.Shutdown(context.Background()); err != nil {
			t.Errorf("shut down telemetry: %v", err)
		}
	})

	sim, err := simulator.New(simulator.WithWebhookClient(hooks.Client()))
	if err != nil {
		t.Fatalf("simulator.New: %v", err)
	}
	simServer := httptest.NewServer(sim)
	t.Cleanup(func() {
		simServer.Close()
		sim.Close()
	})
	g.sim, g.simURL, g.key = sim, simServer.URL, sim.Keys()[0].Key

	gw := g.newServer(simServer.URL, opts)
	g.url = serveTelGateway(t, gw)
	g.http1 = &http.Client{Transport: &http.Transport{}}
	var h2 http.Protocols
	h2.SetUnencryptedHTTP2(true)
	g.h2c = &http.Client{Transport: &http.Transport{Protocols: &h2}}
	t.Cleanup(func() {
		g.http1.CloseIdleConnections()
		g.h2c.CloseIdleConnections()
	})
	return g
}

// newServer builds the gateway over the simulator at simURL.
func (g *telGateway) newServer(simURL string, opts telOptions) *server.Server {
	t := g.t
	t.Helper()
	logger := telemetry.NewLogger(g.logs, slog.LevelDebug)
	tp, mp := g.tel.TracerProvider(), g.tel.MeterProvider()

	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	transport := telemetry.NewTransport(base, tp, mp,
		telemetry.WithPropagator(g.tel.Propagator()))
	// The backoff is kept tiny so that a retried call does not wait.
	policy := upstream.NewPolicy(
		upstream.PolicyConfig{BaseBackoff: time.Nanosecond, MaxBackoff: time.Nanosecond},
		upstream.WithPolicyLogger(logger),
		upstream.WithPolicyMeterProvider(mp))
	client, err := upstream.New(simURL+"/v1",
		upstream.WithHTTPClient(&http.Client{Transport: transport}),
		upstream.WithLogger(logger),
		upstream.WithPolicy(policy))
	if err != nil {
		t.Fatalf("upstream.New: %v", err)
	}

	tracing, err := server.NewTracingInterceptor(server.TracingConfig{
		TracerProvider: tp,
		MeterProvider:  mp,
		Propagator:     g.tel.Propagator(),
		TrustRemote:    !opts.distrust,
	})
	if err != nil {
		t.Fatalf("NewTracingInterceptor: %v", err)
	}
	cfg := server.Config{
		Upstream: client,
		Logger:   logger,
		Interceptors: []connect.Interceptor{
			tracing,
			server.NewAccessLogInterceptor(logger),
		},
	}
	if opts.cache {
		cfg.Cache = g.newCache(logger)
	}
	gw, err := server.New(cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	gw.SetServing(true)
	return gw
}

// newCache returns a memory response cache that is closed when the test
// ends, after the gateway has stopped.
func (g *telGateway) newCache(logger *slog.Logger) *cache.Cache {
	g.t.Helper()
	store, err := cache.NewMemoryStore(1 << 20)
	if err != nil {
		g.t.Fatalf("NewMemoryStore: %v", err)
	}
	c, err := server.NewCache(store,
		cache.WithMeterProvider(g.tel.MeterProvider()),
		cache.WithLogger(logger))
	if err != nil {
		g.t.Fatalf("NewCache: %v", err)
	}
	g.t.Cleanup(func() {
		if err := c.Close(); err != nil {
			g.t.Errorf("close cache: %v", err)
		}
	})
	return c
}

// serveTelGateway serves handler on a loopback port over HTTP/1.1 and h2c
// and returns its root URL. The server stops when the test ends.
func serveTelGateway(t *testing.T, handler http.Handler) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(handler)
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv.Config.Protocols = &protocols
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// logLines returns the decoded JSON log lines whose msg is msg, or every
// line when msg is "".
func (g *telGateway) logLines(msg string) []map[string]any {
	g.t.Helper()
	return testutil.LogRecords(g.t, g.logs.String(), msg)
}

// traceSpans returns the ended spans of trace id, in the order they ended.
func (g *telGateway) traceSpans(id trace.TraceID) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range g.spans.Ended() {
		if s.SpanContext().TraceID() == id {
			out = append(out, s)
		}
	}
	return out
}

// serverSpan returns the one RPC server span whose parent or link is the
// caller's span, failing the test when there is not exactly one.
func (g *telGateway) serverSpan(caller trace.SpanContext) sdktrace.ReadOnlySpan {
	g.t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range g.spans.Ended() {
		if s.SpanKind() != trace.SpanKindServer {
			continue
		}
		if s.Parent().SpanID() == caller.SpanID() || linksTo(s, caller) {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		g.t.Fatalf("found %d server spans under the caller's span %s, want 1", len(found), caller.SpanID())
	}
	return found[0]
}

func linksTo(s sdktrace.ReadOnlySpan, sc trace.SpanContext) bool {
	for _, l := range s.Links() {
		if l.SpanContext.TraceID() == sc.TraceID() && l.SpanContext.SpanID() == sc.SpanID() {
			return true
		}
	}
	return false
}

// childSpans returns the ended spans whose parent is span, in the order
// they ended.
func (g *telGateway) childSpans(parent sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range g.traceSpans(parent.SpanContext().TraceID()) {
		if s.Parent().SpanID() == parent.SpanContext().SpanID() {
			out = append(out, s)
		}
	}
	return out
}

// collectMetrics returns every metric recorded so far.
func (g *telGateway) collectMetrics() metricdata.ResourceMetrics {
	g.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := g.metrics.Collect(context.Background(), &rm); err != nil {
		g.t.Fatalf("collect metrics: %v", err)
	}
	return rm
}

// histogramPoints returns the data points of the float64 histogram name.
func (g *telGateway) histogramPoints(name string) []metricdata.HistogramDataPoint[float64] {
	g.t.Helper()
	for _, sm := range g.collectMetrics().ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			hist, ok := m.Data.(metricdata.Histogram[float64])
			if !ok {
				g.t.Fatalf("metric %s is %T, want a float64 histogram", name, m.Data)
			}
			return hist.DataPoints
		}
	}
	return nil
}

// newCallerContext returns a sampled span context that plays the caller's
// span, with ids drawn at random by the SDK's generator.
func newCallerContext(t *testing.T) trace.SpanContext {
	t.Helper()
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	_, span := tp.Tracer("caller").Start(context.Background(), "caller")
	span.End()
	return span.SpanContext()
}

// traceparent returns the W3C traceparent header value of sc.
func traceparent(sc trace.SpanContext) string {
	return fmt.Sprintf("00-%s-%s-%s", sc.TraceID(), sc.SpanID(), sc.TraceFlags())
}

// parseTraceparent returns the trace id and parent span id of a W3C
// traceparent header value.
func parseTraceparent(t *testing.T, value string) (trace.TraceID, trace.SpanID) {
	t.Helper()
	parts := strings.Split(value, "-")
	if len(parts) != 4 {
		t.Fatalf("traceparent %q does not have 4 parts", value)
	}
	traceID, err := trace.TraceIDFromHex(parts[1])
	if err != nil {
		t.Fatalf("traceparent %q: trace id: %v", value, err)
	}
	spanID, err := trace.SpanIDFromHex(parts[2])
	if err != nil {
		t.Fatalf("traceparent %q: parent id: %v", value, err)
	}
	return traceID, spanID
}

// attrValue returns the value of the attribute key of span, and whether
// the span has it.
func attrValue(span sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range span.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// receivedTraceparents returns the traceparent headers of the simulator's
// recent requests on route, such as "GET /v1/sessions/{id}", whose trace id
// is id.
func (g *telGateway) receivedTraceparents(route string, id trace.TraceID) []string {
	var out []string
	for _, r := range g.sim.Requests(route) {
		value := r.Header.Get("Traceparent")
		if strings.Contains(value, "-"+id.String()+"-") {
			out = append(out, value)
		}
	}
	return out
}

// sessionIDs returns the ids of n sessions of the Acme organization, read
// straight from the simulator.
func (g *telGateway) sessionIDs(n int) []string {
	g.t.Helper()
	req, err := http.NewRequest(http.MethodGet, g.simURL+"/v1/sessions", nil)
	if err != nil {
		g.t.Fatalf("build session list request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+g.key)
	resp, err := g.http1.Do(req)
	if err != nil {
		g.t.Fatalf("list sessions on the simulator: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Sessions []struct {
				ID string `json:"id"`
			} `json:"sessions"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		g.t.Fatalf("decode session list: %v", err)
	}
	if len(body.Data.Sessions) < n {
		g.t.Fatalf("the simulator has %d sessions, want at least %d", len(body.Data.Sessions), n)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = body.Data.Sessions[i].ID
	}
	return ids
}
