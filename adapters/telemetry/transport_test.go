package telemetry

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/groundcam/groundcam-gateway/internal/testutil"
)

// upstream is an httptest server that stores the traceparent of each request
// and responds with rate-limit headers and a small JSON body.
type upstream struct {
	server *httptest.Server

	mu           sync.Mutex
	traceparents []string
}

func newUpstream(t *testing.T, status int) *upstream {
	t.Helper()
	u := &upstream{}
	u.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.traceparents = append(u.traceparents, r.Header.Get("Traceparent"))
		u.mu.Unlock()

		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-RateLimit-Remaining", "42")
		w.Header().Set("Set-Cookie", "session=cookie-secret-value")
		w.Header().Set("X-Upstream-Note", "response-header-secret")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"data":{}}`)
	}))
	t.Cleanup(u.server.Close)
	return u
}

func (u *upstream) receivedTraceparents() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.traceparents...)
}

// client returns an HTTP client whose transport is instrumented with r.
func (u *upstream) client(r *recorders) *http.Client {
	base := u.server.Client().Transport
	return &http.Client{Transport: NewTransport(base, r.tracerProvider, r.meterProvider,
		WithPropagator(propagation.TraceContext{}))}
}

// send makes a request with ctx and returns the response with its body read
// but not closed.
func send(
	t *testing.T,
	client *http.Client,
	ctx context.Context,
	method, url string,
) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp
}

func closeBody(t *testing.T, resp *http.Response) {
	t.Helper()
	if err := resp.Body.Close(); err != nil {
		t.Errorf("close body: %v", err)
	}
}

func TestTransportSpanIsChildWithTraceparent(t *testing.T) {
	t.Parallel()
	rec := newRecorders(t)
	up := newUpstream(t, http.StatusOK)

	ctx, parent := rec.tracerProvider.Tracer("test").Start(context.Background(), "parent")
	ctx = WithRoute(ctx, http.MethodGet, "/v1/sessions/{id}")
	resp := send(t, up.client(rec), ctx, http.MethodGet, up.server.URL+"/v1/sessions/abc")
	closeBody(t, resp)
	parent.End()

	span := rec.endedSpan(t, "GET /v1/sessions/{id}")
	if span.SpanKind() != trace.SpanKindClient {
		t.Errorf("span kind = %v, want client", span.SpanKind())
	}
	if got, want := span.Parent().SpanID(), parent.SpanContext().SpanID(); got != want {
		t.Errorf("parent span id = %s, want %s", got, want)
	}
	if got, want := span.SpanContext().TraceID(), parent.SpanContext().TraceID(); got != want {
		t.Errorf("trace id = %s, want %s", got, want)
	}
	if span.Status().Code != codes.Unset {
		t.Errorf("status = %v, want unset for 200", span.Status().Code)
	}

	traceparents := up.receivedTraceparents()
	if len(traceparents) != 1 {
		t.Fatalf("upstream saw %d requests, want 1", len(traceparents))
	}
	parts := strings.Split(traceparents[0], "-")
	if len(parts) != 4 {
		t.Fatalf("traceparent %q is not version-traceid-spanid-flags", traceparents[0])
	}
	if got, want := parts[1], parent.SpanContext().TraceID().String(); got != want {
		t.Errorf("traceparent trace id = %s, want %s", got, want)
	}
	if got, want := parts[2], span.SpanContext().SpanID().String(); got != want {
		t.Errorf("traceparent span id = %s, want the client span %s", got, want)
	}

	host, port, _ := net.SplitHostPort(up.server.Listener.Addr().String())
	attrs := span.Attributes()
	wantAttr(t, attrs, semconv.HTTPRequestMethodKey, "GET")
	wantAttr(t, attrs, semconv.HTTPRouteKey, "/v1/sessions/{id}")
	wantAttr(t, attrs, semconv.ServerAddressKey, host)
	wantAttr(t, attrs, semconv.ServerPortKey, port)
	wantAttr(t, attrs, semconv.HTTPResponseStatusCodeKey, "200")
	wantAttr(t, attrs, "http.response.header.x-ratelimit-remaining", `["42"]`)
	wantAttr(t, attrs, "http.response.header.content-type", `["application/json"]`)
	wantNoAttr(t, attrs, semconv.HTTPRequestResendCountKey)
	wantNoAttr(t, attrs, semconv.ErrorTypeKey)
}

func TestTransportNamesByRouteTemplate(t *testing.T) {
	t.Parallel()
	rec := newRecorders(t)
	up := newUpstream(t, http.StatusOK)
	client := up.client(rec)

	for _, id := range []string{"abc", "xyz"} {
		ctx := WithRoute(context.Background(), http.MethodGet, "/v1/sessions/{id}")
		closeBody(t, send(t, client, ctx, http.MethodGet, up.server.URL+"/v1/sessions/"+id))
	}

	spans := rec.spans.Ended()
	if len(spans) != 2 {
		t.Fatalf("ended spans = %d, want 2", len(spans))
	}
	for _, span := range spans {
		if span.Name() != "GET /v1/sessions/{id}" {
			t.Errorf("span name = %q, want GET /v1/sessions/{id}", span.Name())
		}
	}
	first := attribute.NewSet(spans[0].Attributes()...)
	second := attribute.NewSet(spans[1].Attributes()...)
	if !first.Equals(&second) {
		t.Errorf("span attributes differ: %v and %v", first.ToSlice(), second.ToSlice())
	}

	// Identical attribute sets aggregate into a single data point.
	points := rec.durationPoints(t)
	if len(points) != 1 {
		t.Fatalf("duration data points = %d, want 1 (attribute sets differ)", len(points))
	}
	if points[0].Count != 2 {
		t.Errorf("duration count = %d, want 2", points[0].Count)
	}
	attrs := points[0].Attributes.ToSlice()
	wantAttr(t, attrs, semconv.HTTPRequestMethodKey, "GET")
	wantAttr(t, attrs, semconv.HTTPRouteKey, "/v1/sessions/{id}")
	wantAttr(t, attrs, semconv.HTTPResponseStatusCodeKey, "200")
	wantNoAttr(t, attrs, semconv.ErrorTypeKey)
	wantNoAttr(t, attrs, "http.response.header.x-ratelimit-remaining")
}

func TestTransportWithoutRoute(t *testing.T) {
	t.Parallel()
	rec := newRecorders(t)
	up := newUpstream(t, http.StatusOK)

	resp := send(t, up.client(rec), context.Background(), http.MethodPost, up.server.URL+"/v1/raw/123")
	closeBody(t, resp)

	span := rec.endedSpan(t, "POST")
	wantNoAttr(t, span.Attributes(), semconv.HTTPRouteKey)
	wantAttr(t, span.Attributes(), semconv.HTTPRequestMethodKey, "POST")
}

func TestTransportRouteDropsQuery(t *testing.T) {
	t.Parallel()
	rec := newRecorders(t)
	up := newUpstream(t, http.StatusOK)

	ctx := WithRoute(context.Background(), http.MethodGet, "/v1/sessions?phone=1")
	closeBody(t, send(t, up.client(rec), ctx, http.MethodGet, up.server.URL+"/v1/sessions"))

	span := rec.endedSpan(t, "GET /v1/sessions")
	wantAttr(t, span.Attributes(), semconv.HTTPRouteKey, "/v1/sessions")
}

func TestTransportAttemptAndCache(t *testing.T) {
	t.Parallel()
	rec := newRecorders(t)
	up := newUpstream(t, http.StatusOK)
	client := up.client(rec)

	ctx, parent := rec.tracerProvider.Tracer("test").Start(context.Background(), "parent")
	RecordCache(ctx, CacheMiss)
	ctx = WithRoute(ctx, http.MethodGet, "/v1/agents/{id}")
	for attempt := 1; attempt <= 3; attempt++ {
		resp := send(t, client, WithAttempt(ctx, attempt), http.MethodGet, up.server.URL+"/v1/agents/a1")
		closeBody(t, resp)
	}
	parent.End()

	wantAttr(t, rec.endedSpan(t, "parent").Attributes(), AttrCache, "miss")

	spans := rec.spans.Ended()
	var resendCounts []string
	for _, span := range spans {
		if span.Name() != "GET /v1/agents/{id}" {
			continue
		}
		value, ok := attrValue(span.Attributes(), semconv.HTTPRequestResendCountKey)
		if !ok {
			resendCounts = append(resendCounts, "absent")
			continue
		}
		resendCounts = append(resendCounts, value.Emit())
	}
	if got, want := strings.Join(resendCounts, ","), "absent,1,2"; got != want {
		t.Errorf("resend counts of attempts 1 to 3 = %s, want %s", got, want)
	}
}

func TestTransportUpstreamErrorCode(t *testing.T) {
	t.Parallel()
	rec := newRecorders(t)
	up := newUpstream(t, http.StatusBadRequest)
	client := up.client(rec)

	tests := []struct {
		name    string
		route   string
		code    string
		useResp bool // pass the response's request context instead of the caller's
		want    string
	}{
		{name: "caller context", route: "/v1/sessions", code: "INVALID_PHONE", want: "INVALID_PHONE"},
		{
			name: "response context", route: "/v1/appointments", code: "NOT_FOUND",
			useResp: true, want: "NOT_FOUND",
		},
		{name: "free text", route: "/v1/webhooks", code: "call +33612345678", want: "_OTHER"},
	}
	for _, tt := range tests {
		ctx := WithRoute(context.Background(), http.MethodPost, tt.route)
		resp := send(t, client, ctx, http.MethodPost, up.server.URL+tt.route)
		if tt.useResp {
			ctx = resp.Request.Context()
		}
		SetUpstreamError(ctx, tt.code)
		closeBody(t, resp)

		span := rec.endedSpan(t, "POST "+tt.route)
		wantAttr(t, span.Attributes(), AttrUpstreamErrorCode, tt.want)
		wantAttr(t, span.Attributes(), semconv.ErrorTypeKey, "400")
		if span.Status().Code != codes.Error {
			t.Errorf("%s: status = %v, want error for 400", tt.name, span.Status().Code)
		}
	}
}

func TestTransportSpanEndsOnBodyClose(t *testing.T) {
	t.Parallel()
	rec := newRecorders(t)
	up := newUpstream(t, http.StatusOK)

	ctx := WithRoute(context.Background(), http.MethodGet, "/v1/credits")
	resp := send(t, up.client(rec), ctx, http.MethodGet, up.server.URL+"/v1/credits")
	if n := len(rec.spans.Ended()); n != 0 {
		t.Errorf("ended spans before close = %d, want 0", n)
	}
	closeBody(t, resp)
	closeBody(t, resp) // a second close must not end the span twice
	if n := len(rec.spans.Ended()); n != 1 {
		t.Errorf("ended spans after close = %d, want 1", n)
	}
}

func TestTransportLeavesRequestUnchanged(t *testing.T) {
	t.Parallel()
	rec := newRecorders(t)
	up := newUpstream(t, http.StatusOK)

	req, err := http.NewRequest(http.MethodGet, up.server.URL+"/v1/agents", nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := up.client(rec).Do(req)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	closeBody(t, resp)

	if got := req.Header.Get("Traceparent"); got != "" {
		t.Errorf("caller's request gained traceparent %q", got)
	}
	if got := len(req.Header); got != 1 {
		t.Errorf("caller's request has %d headers, want 1", got)
	}
	if got := up.receivedTraceparents(); len(got) != 1 || got[0] == "" {
		t.Errorf("upstream traceparents = %q, want one non-empty", got)
	}
}

func TestTransportConnectionError(t *testing.T) {
	t.Parallel()
	rec := newRecorders(t)

	// A port that nothing listens on refuses connections.
	addr := testutil.FreeAddr(t)

	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	client := &http.Client{Transport: NewTransport(base, rec.tracerProvider, rec.meterProvider)}
	ctx := WithRoute(context.Background(), http.MethodGet, "/v1/sessions/{id}")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v1/sessions/abc", nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if resp, err := client.Do(req); err == nil {
		closeBody(t, resp)
		t.Fatal("request to a closed port succeeded")
	}

	span := rec.endedSpan(t, "GET /v1/sessions/{id}")
	wantAttr(t, span.Attributes(), semconv.ErrorTypeKey, "connection_refused")
	wantNoAttr(t, span.Attributes(), semconv.HTTPResponseStatusCodeKey)
	if span.Status().Code != codes.Error {
		t.Errorf("status = %v, want error", span.Status().Code)
	}
	if span.Status().Description != "connection_refused" {
		t.Errorf("status description = %q, want connection_refused", span.Status().Description)
	}

	points := rec.durationPoints(t)
	if len(points) != 1 {
		t.Fatalf("duration data points = %d, want 1", len(points))
	}
	wantAttr(t, points[0].Attributes.ToSlice(), semconv.ErrorTypeKey, "connection_refused")
	wantNoAttr(t, points[0].Attributes.ToSlice(), semconv.HTTPResponseStatusCodeKey)
}

func TestTransportTruncatedBody(t *testing.T) {
	t.Parallel()
	rec := newRecorders(t)

	// The handler promises 100 bytes, sends 5, then drops the connection.
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(100))
		_, _ = io.WriteString(w, "short")
		rc := http.NewResponseController(w)
		_ = rc.Flush()
		conn, _, err := rc.Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}))
	t.Cleanup(server.Close)

	base := server.Client().Transport
	client := &http.Client{Transport: NewTransport(base, rec.tracerProvider, rec.meterProvider)}
	ctx := WithRoute(context.Background(), http.MethodGet, "/v1/statistics")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server.URL+"/v1/statistics", nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Error("reading a truncated body succeeded")
	}
	closeBody(t, resp)

	span := rec.endedSpan(t, "GET /v1/statistics")
	wantAttr(t, span.Attributes(), semconv.ErrorTypeKey, "connection_closed")
	if span.Status().Code != codes.Error {
		t.Errorf("status = %v, want error", span.Status().Code)
	}
}

func TestTransportRecordsNoSecrets(t *testing.T) {
	t.Parallel()
	rec := newRecorders(t)
	up := newUpstream(t, http.StatusOK)

	ctx := WithRoute(context.Background(), http.MethodGet, "/v1/sessions/{id}")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		up.server.URL+"/v1/sessions/ses_8f3kq?phone=%2B33612345678", nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer gc_live_secret")
	req.Header.Set("Idempotency-Key", "idem-key-secret")
	req.Header.Set("User-Agent", "groundcam-gateway-test")
	resp, err := up.client(rec).Do(req)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	closeBody(t, resp)

	recorded := rec.recordedText(t)
	for _, secret := range []string{
		"gc_live_secret", "Bearer", "33612345678", "phone", "ses_8f3kq", "/v1/sessions/ses",
		"idem-key-secret", "cookie-secret-value", "response-header-secret",
	} {
		if strings.Contains(recorded, secret) {
			t.Errorf("recorded telemetry contains %q:\n%s", secret, recorded)
		}
	}

	// The allow-listed request header is recorded, which shows that the
	// check above looked at request header attributes.
	span := rec.endedSpan(t, "GET /v1/sessions/{id}")
	wantAttr(t, span.Attributes(), "http.request.header.user-agent", `["groundcam-gateway-test"]`)
	wantNoAttr(t, span.Attributes(), "http.request.header.authorization")
	wantNoAttr(t, span.Attributes(), "http.request.header.idempotency-key")
	wantNoAttr(t, span.Attributes(), "http.response.header.set-cookie")
}

func TestNormalizeMethod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method string
		want   string
	}{
		{"GET", "GET"},
		{"post", "POST"},
		{"", "GET"},
		{"PURGE", "_OTHER"},
		{"GET /v1/sessions/abc", "_OTHER"},
	}
	for _, tt := range tests {
		if got := normalizeMethod(tt.method); got != tt.want {
			t.Errorf("normalizeMethod(%q) = %q, want %q", tt.method, got, tt.want)
		}
	}
}

func TestSpanName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		method   string
		route    route
		hasRoute bool
		want     string
	}{
		{"route", "GET", route{"GET", "/v1/sessions/{id}"}, true, "GET /v1/sessions/{id}"},
		{"route method wins", "GET", route{"delete", "/v1/sessions/{id}"}, true,
			"DELETE /v1/sessions/{id}"},
		{"route without method", "PATCH", route{"", "/v1/agents/{id}"}, true, "PATCH /v1/agents/{id}"},
		{"no route", "POST", route{}, false, "POST"},
		{"unknown method", "_OTHER", route{}, false, "HTTP"},
		{"unknown route method", "GET", route{"BREW", "/v1/pots"}, true, "HTTP /v1/pots"},
	}
	for _, tt := range tests {
		if got := spanName(tt.method, tt.route, tt.hasRoute); got != tt.want {
			t.Errorf("%s: spanName = %q, want %q", tt.name, got, tt.want)
		}
	}
}
