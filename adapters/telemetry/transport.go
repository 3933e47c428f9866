package telemetry

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/httpconv"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the spans and metrics that this
// package records.
const ScopeName = "github.com/groundcam/groundcam-gateway/adapters/telemetry"

// TransportOption changes how [NewTransport] instruments requests.
type TransportOption interface {
	applyTransport(*transport)
}

type transportOptionFunc func(*transport)

func (f transportOptionFunc) applyTransport(t *transport) { f(t) }

// WithPropagator sets the propagator that writes the trace context into
// outgoing headers. The default is the global propagator at the time of
// each request, which [Setup] sets to W3C TraceContext plus Baggage.
func WithPropagator(p propagation.TextMapPropagator) TransportOption {
	return transportOptionFunc(func(t *transport) { t.propagator = p })
}

// transport is the instrumented round tripper returned by NewTransport.
type transport struct {
	base       http.RoundTripper
	tracer     trace.Tracer
	duration   metric.Float64Histogram
	propagator propagation.TextMapPropagator // nil means the global one
}

var _ http.RoundTripper = (*transport)(nil)

// NewTransport wraps base so that every request gets a client span and a
// sample of the http.client.request.duration histogram (seconds). A nil base
// is [http.DefaultTransport], and a nil tp or mp is the global provider.
//
// The span is a child of the span in the request's context. It is named
// "METHOD TEMPLATE" from [WithRoute], or just the method when the context
// has no route. It ends when the response body is closed or the round trip
// fails, so a caller that never closes the body never ends the span. The traceparent (and baggage) headers are injected into a copy
// of the request, so the caller's request is not modified.
//
// Spans carry only http.request.method, http.route, server.address,
// server.port, http.response.status_code, http.request.resend_count (from
// [WithAttempt]), error.type, the values of headers that [IsSafeHeader]
// accepts as http.request.header.NAME and http.response.header.NAME, and
// the attributes set by [SetUpstreamError] and [RecordCache]. The histogram
// carries method, route, server address and port, status code and
// error.type. Neither ever carries the URL path, the query, a body or any
// other header. Responses with status 400 or above, transport errors and
// failed body reads set the span status to Error. A transport error's message is not
// recorded, because it can contain the URL.
func NewTransport(
	base http.RoundTripper,
	tp trace.TracerProvider,
	mp metric.MeterProvider,
	opts ...TransportOption,
) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}

	// httpconv sets the histogram name, unit and bucket boundaries of the
	// semantic conventions. It fails only for an invalid name, and then
	// still returns a usable no-op instrument.
	duration, err := httpconv.NewClientRequestDuration(mp.Meter(ScopeName))
	if err != nil {
		otel.Handle(err)
	}

	t := &transport{
		base:     base,
		tracer:   tp.Tracer(ScopeName),
		duration: duration.Inst(),
	}
	for _, opt := range opts {
		opt.applyTransport(t)
	}
	return t
}

// RoundTrip sends req through the base transport inside a client span.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	method := normalizeMethod(req.Method)
	r, hasRoute := routeFromContext(req.Context())

	// Attributes shared by the span and the histogram.
	common := []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(method)}
	if hasRoute {
		common = append(common, semconv.HTTPRoute(r.template))
	}
	common = append(common, serverAttributes(req)...)

	spanAttrs := slices.Clip(common)
	if n := attemptFromContext(req.Context()); n > 1 {
		spanAttrs = append(spanAttrs, semconv.HTTPRequestResendCount(n-1))
	}
	ctx, span := t.tracer.Start(req.Context(), spanName(method, r, hasRoute),
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(spanAttrs...),
	)
	// Header attributes are built only for a span that records them: most
	// spans are sampled out, and building them allocates per header.
	recording := span.IsRecording()
	if recording {
		span.SetAttributes(headerAttributes("http.request.header.", req.Header)...)
	}
	if slot := clientSpanSlotFromContext(ctx); slot != nil {
		slot.set(span)
	}

	// Inject into a copy, because a RoundTripper must not modify its request.
	out := req.WithContext(ctx)
	out.Header = req.Header.Clone()
	if out.Header == nil {
		out.Header = make(http.Header)
	}
	t.textMapPropagator().Inject(ctx, propagation.HeaderCarrier(out.Header))

	resp, err := t.base.RoundTrip(out)
	elapsed := time.Since(start).Seconds()
	if err != nil {
		errType := classifyError(err)
		span.SetAttributes(semconv.ErrorTypeKey.String(errType))
		span.SetStatus(codes.Error, errType)
		span.End()
		t.record(ctx, elapsed, append(common, semconv.ErrorTypeKey.String(errType)))
		return nil, err
	}

	statusAttrs := statusAttributes(resp.StatusCode)
	if recording {
		span.SetAttributes(statusAttrs...)
		span.SetAttributes(headerAttributes("http.response.header.", resp.Header)...)
	}
	if resp.StatusCode >= 400 {
		span.SetStatus(codes.Error, "")
	}
	t.record(ctx, elapsed, append(common, statusAttrs...))

	if resp.Body == nil || !recording {
		// A span that records nothing needs no end at the body's close.
		span.End()
		return resp, nil
	}
	resp.Body = &spanBody{ReadCloser: resp.Body, span: span}
	return resp, nil
}

func (t *transport) textMapPropagator() propagation.TextMapPropagator {
	if t.propagator != nil {
		return t.propagator
	}
	return otel.GetTextMapPropagator()
}

func (t *transport) record(ctx context.Context, seconds float64, attrs []attribute.KeyValue) {
	t.duration.Record(ctx, seconds, metric.WithAttributeSet(attribute.NewSet(attrs...)))
}

// spanName returns "METHOD TEMPLATE", preferring the route's method, or the
// bare method without a route. An unknown method is named "HTTP", as the
// semantic conventions prescribe.
func spanName(method string, r route, hasRoute bool) string {
	if hasRoute && r.method != "" {
		method = normalizeMethod(r.method)
	}
	if method == otherValue {
		method = "HTTP"
	}
	if !hasRoute {
		return method
	}
	return method + " " + r.template
}

// knownMethods are the methods recorded as they are. Others become "_OTHER",
// so that a misbehaving caller cannot create unbounded attribute values.
var knownMethods = map[string]bool{
	http.MethodConnect: true, http.MethodDelete: true, http.MethodGet: true,
	http.MethodHead: true, http.MethodOptions: true, http.MethodPatch: true,
	http.MethodPost: true, http.MethodPut: true, http.MethodTrace: true,
}

func normalizeMethod(method string) string {
	if method == "" {
		return http.MethodGet // net/http sends an empty method as GET
	}
	upper := strings.ToUpper(method)
	if knownMethods[upper] {
		return upper
	}
	return otherValue
}

// serverAttributes returns server.address and server.port from the URL's
// host, which never contains the path or the query.
func serverAttributes(req *http.Request) []attribute.KeyValue {
	if req.URL == nil || req.URL.Host == "" {
		return nil
	}
	attrs := []attribute.KeyValue{semconv.ServerAddress(req.URL.Hostname())}

	port, err := strconv.Atoi(req.URL.Port())
	if err != nil {
		switch req.URL.Scheme {
		case "https":
			port = 443
		case "http":
			port = 80
		default:
			return attrs
		}
	}
	return append(attrs, semconv.ServerPort(port))
}

// statusAttributes returns http.response.status_code, plus error.type for
// statuses of 400 and above, as the HTTP client semantic conventions require.
func statusAttributes(status int) []attribute.KeyValue {
	attrs := []attribute.KeyValue{semconv.HTTPResponseStatusCode(status)}
	if status >= 400 {
		attrs = append(attrs, semconv.ErrorTypeKey.String(strconv.Itoa(status)))
	}
	return attrs
}

// headerAttributes returns one string-slice attribute per header that
// IsSafeHeader accepts, keyed by prefix plus the lower-case name.
func headerAttributes(prefix string, header http.Header) []attribute.KeyValue {
	var attrs []attribute.KeyValue
	for name, values := range header {
		if IsSafeHeader(name) {
			attrs = append(attrs, attribute.StringSlice(prefix+strings.ToLower(name), values))
		}
	}
	return attrs
}

// spanBody ends the client span when the response body is closed, so that
// SetUpstreamError can still annotate the span while the body is decoded.
type spanBody struct {
	io.ReadCloser
	span trace.Span

	failOnce sync.Once
	endOnce  sync.Once
}

func (b *spanBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.failOnce.Do(func() {
			errType := classifyError(err)
			b.span.SetAttributes(semconv.ErrorTypeKey.String(errType))
			b.span.SetStatus(codes.Error, errType)
		})
	}
	return n, err
}

func (b *spanBody) Close() error {
	err := b.ReadCloser.Close()
	b.endOnce.Do(func() { b.span.End() })
	return err
}
