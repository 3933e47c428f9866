package telemetry

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recorders holds providers wired to in-memory recorders.
type recorders struct {
	spans          *tracetest.SpanRecorder
	metrics        *sdkmetric.ManualReader
	tracerProvider *sdktrace.TracerProvider
	meterProvider  *sdkmetric.MeterProvider
}

func newRecorders(t *testing.T) *recorders {
	t.Helper()
	r := &recorders{
		spans:   tracetest.NewSpanRecorder(),
		metrics: sdkmetric.NewManualReader(),
	}
	r.tracerProvider = sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithSpanProcessor(r.spans),
	)
	r.meterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.metrics))
	t.Cleanup(func() {
		ctx := context.Background()
		if err := r.tracerProvider.Shutdown(ctx); err != nil {
			t.Errorf("shut down tracer provider: %v", err)
		}
		if err := r.meterProvider.Shutdown(ctx); err != nil {
			t.Errorf("shut down meter provider: %v", err)
		}
	})
	return r
}

// durationPoints returns the data points of http.client.request.duration.
func (r *recorders) durationPoints(t *testing.T) []metricdata.HistogramDataPoint[float64] {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.metrics.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("collect metrics: %v", err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "http.client.request.duration" {
				continue
			}
			hist, ok := m.Data.(metricdata.Histogram[float64])
			if !ok {
				t.Fatalf("http.client.request.duration is %T, want a float64 histogram", m.Data)
			}
			if m.Unit != "s" {
				t.Errorf("http.client.request.duration unit = %q, want s", m.Unit)
			}
			return hist.DataPoints
		}
	}
	return nil
}

// recordedText returns every string that the recorders hold: span names,
// status descriptions, attribute keys and values of spans, events, links and
// metric data points, one per line, for leak checks.
func (r *recorders) recordedText(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	writeAttrs := func(attrs []attribute.KeyValue) {
		for _, kv := range attrs {
			fmt.Fprintf(&b, "%s=%s\n", kv.Key, kv.Value.Emit())
		}
	}
	for _, span := range r.spans.Ended() {
		fmt.Fprintf(&b, "%s\n%s\n", span.Name(), span.Status().Description)
		writeAttrs(span.Attributes())
		writeAttrs(span.Resource().Attributes())
		for _, event := range span.Events() {
			fmt.Fprintf(&b, "%s\n", event.Name)
			writeAttrs(event.Attributes)
		}
		for _, link := range span.Links() {
			writeAttrs(link.Attributes)
		}
	}

	var rm metricdata.ResourceMetrics
	if err := r.metrics.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("collect metrics: %v", err)
	}
	writeAttrs(rm.Resource.Attributes())
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			fmt.Fprintf(&b, "%s\n", m.Name)
			if hist, ok := m.Data.(metricdata.Histogram[float64]); ok {
				for _, dp := range hist.DataPoints {
					writeAttrs(dp.Attributes.ToSlice())
				}
			}
		}
	}
	return b.String()
}

// endedSpan returns the only ended span called name.
func (r *recorders) endedSpan(t *testing.T, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	var names []string
	for _, span := range r.spans.Ended() {
		names = append(names, span.Name())
		if span.Name() == name {
			found = append(found, span)
		}
	}
	if len(found) != 1 {
		t.Fatalf("ended spans named %q: %d, want 1 (ended: %q)", name, len(found), names)
	}
	return found[0]
}

// attrValue returns the attribute called key, and whether it is present.
func attrValue(attrs []attribute.KeyValue, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range attrs {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// wantAttr fails the test unless attrs has key with the value want, which is
// compared in its Emit form.
func wantAttr(t *testing.T, attrs []attribute.KeyValue, key attribute.Key, want string) {
	t.Helper()
	got, ok := attrValue(attrs, key)
	if !ok {
		t.Errorf("attribute %s missing; have %v", key, attrs)
		return
	}
	if got.Emit() != want {
		t.Errorf("attribute %s = %q, want %q", key, got.Emit(), want)
	}
}

// wantNoAttr fails the test if attrs has key.
func wantNoAttr(t *testing.T, attrs []attribute.KeyValue, key attribute.Key) {
	t.Helper()
	if got, ok := attrValue(attrs, key); ok {
		t.Errorf("attribute %s = %q, want it absent", key, got.Emit())
	}
}
