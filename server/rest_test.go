package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"connectrpc.com/connect"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	"github.com/groundcam/groundcam-gateway/internal/testutil"
)

// Request bodies that pass the gateway's validation.
const (
	restSessionBody     = `{"clientPhone":"+33612345678","agentId":"agent_1"}`
	restAppointmentBody = `{"agentId":"agent_1","clientPhone":"+33612345678",` +
		`"scheduledAt":"2040-03-20T14:30:00.000Z","durationMinutes":15,"notifyBy":"sms"}`
)

// upstreamReply is the response of the stand-in upstream to one request.
type upstreamReply struct {
	status int
	header http.Header
	body   string
}

// upstreamRequest is a request that the stand-in upstream received.
type upstreamRequest struct {
	method string
	path   string
	query  string
	header http.Header
	body   string
}

// restHarness is a gateway whose REST face is served by httptest, in front
// of a stand-in for the GroundCam API that responds from a function and
// records every request.
type restHarness struct {
	gateway *httptest.Server

	mu       sync.Mutex
	received []upstreamRequest
}

// restHarnessConfig configures [newRESTHarness].
type restHarnessConfig struct {
	reply        func(*http.Request) upstreamReply
	interceptors []connect.Interceptor
	maxBytes     int64
}

func newRESTHarness(t *testing.T, cfg restHarnessConfig) *restHarness {
	t.Helper()
	h := &restHarness{}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.received = append(h.received, upstreamRequest{
			method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, header: r.Header.Clone(), body: string(body),
		})
		h.mu.Unlock()

		reply := upstreamReply{status: http.StatusOK, body: `{"data":{}}`}
		if cfg.reply != nil {
			reply = cfg.reply(r)
		}
		for name, values := range reply.header {
			w.Header()[name] = values
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(reply.status)
		_, _ = io.WriteString(w, reply.body)
	}))
	t.Cleanup(up.Close)

	client, err := upstream.New(up.URL)
	if err != nil {
		t.Fatalf("upstream client: %v", err)
	}
	srv, err := New(Config{
		Upstream:        client,
		Logger:          slog.New(slog.DiscardHandler),
		Interceptors:    cfg.interceptors,
		MaxRequestBytes: cfg.maxBytes,
	})
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	h.gateway = httptest.NewServer(srv)
	t.Cleanup(h.gateway.Close)
	return h
}

// do sends a REST request with a bearer key and returns the response with
// its body read.
func (h *restHarness) do(
	t *testing.T,
	method, path, body string,
	header http.Header,
) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, h.gateway.URL+path,
		strings.NewReader(body))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer gc_live_test")
	for name, values := range header {
		req.Header[name] = values
	}
	return testutil.Do(t, h.gateway.Client(), req)
}

// requests returns the requests the upstream received so far.
func (h *restHarness) requests() []upstreamRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]upstreamRequest(nil), h.received...)
}

// keyCheckPath is the upstream path of the key checks that the gateway
// makes before it rejects a request.
const keyCheckPath = "/v1/auth/verify"

// forwarded returns the requests the upstream received so far, leaving
// out the key checks.
func (h *restHarness) forwarded() []upstreamRequest {
	var out []upstreamRequest
	for _, r := range h.requests() {
		if r.path != keyCheckPath {
			out = append(out, r)
		}
	}
	return out
}

// keyChecks returns the number of key checks the upstream received.
func (h *restHarness) keyChecks() int {
	return len(h.requests()) - len(h.forwarded())
}

// last returns the last request the upstream received.
func (h *restHarness) last(t *testing.T) upstreamRequest {
	t.Helper()
	got := h.requests()
	if len(got) == 0 {
		t.Fatal("the upstream received no request")
	}
	return got[len(got)-1]
}

// assertJSON fails t unless got and want hold the same JSON value.
func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("response body is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("expected body is not JSON: %v\n%s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body:\n got %s\nwant %s", strings.TrimSpace(string(got)), want)
	}
}

// assertError fails t unless the response is the upstream's error shape
// with the status, code and message.
func assertError(t *testing.T, res *http.Response, body []byte, status int, code, message string) {
	t.Helper()
	if res.StatusCode != status {
		t.Errorf("status = %d, want %d; body %s", res.StatusCode, status, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != restContentType {
		t.Errorf("Content-Type = %q, want %q", ct, restContentType)
	}
	var e restErrorBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v\n%s", err, body)
	}
	if e.Error.Code != code {
		t.Errorf("code = %q, want %q", e.Error.Code, code)
	}
	if !strings.Contains(e.Error.Message, message) {
		t.Errorf("message = %q, want it to contain %q", e.Error.Message, message)
	}
	var raw map[string]map[string]any
	if err := json.Unmarshal(body, &raw); err == nil && (len(raw) != 1 || len(raw["error"]) != 2) {
		t.Errorf("error body has members beyond error.message and error.code: %s", body)
	}
}

func TestRESTSuccessStatusFromOperation(t *testing.T) {
	t.Parallel()
	h := newRESTHarness(t, restHarnessConfig{reply: func(r *http.Request) upstreamReply {
		if r.Method == http.MethodPost && !strings.HasSuffix(r.URL.Path, "/end") {
			return upstreamReply{status: http.StatusCreated, body: `{"data":{}}`}
		}
		return upstreamReply{status: http.StatusOK, body: `{"data":{}}`}
	}})
	cases := []struct {
		method, path, body string
		want               int
	}{
		{http.MethodPost, "/v1/sessions", restSessionBody, http.StatusCreated},
		{http.MethodPost, "/v1/sessions/bulk", `{"sessions":[` + restSessionBody + `]}`, http.StatusCreated},
		{http.MethodPost, "/v1/sessions/s1/agent-auth-url", ``, http.StatusCreated},
		{http.MethodPost, "/v1/webhooks", `{"url":"https://crm.test/hooks","events":["session.created"]}`, http.StatusCreated},
		{http.MethodPost, "/v1/appointments", restAppointmentBody, http.StatusCreated},
		{http.MethodPost, "/v1/sessions/s1/end", ``, http.StatusOK},
		{http.MethodGet, "/v1/credits", ``, http.StatusOK},
		{http.MethodDelete, "/v1/webhooks/w1", ``, http.StatusOK},
	}
	for _, c := range cases {
		res, body := h.do(t, c.method, c.path, c.body, nil)
		if res.StatusCode != c.want {
			t.Errorf("%s %s: status = %d, want %d; body %s", c.method, c.path, res.StatusCode, c.want, body)
		}
		if ct := res.Header.Get("Content-Type"); ct != restContentType {
			t.Errorf("%s %s: Content-Type = %q, want %q", c.method, c.path, ct, restContentType)
		}
	}
}

func TestRESTResponseEnvelope(t *testing.T) {
	t.Parallel()
	const credits = `{"available":150,"subscription":{"remaining":75,"quota":100,` +
		`"resetsAt":"2026-04-01T00:00:00.000Z"},"pack":{"remaining":75}}`
	const agents = `{"agents":[{"id":"f7Kj2mNpQ1xR","email":"marie.martin@acme.fr",` +
		`"displayName":"Marie Martin","role":"admin","disabled":false,` +
		`"joinedAt":"2025-05-10T08:30:00.000Z"}],"total":1}`
	h := newRESTHarness(t, restHarnessConfig{reply: func(r *http.Request) upstreamReply {
		if r.URL.Path == "/v1/credits" {
			return upstreamReply{status: http.StatusOK, body: `{"data":` + credits + `}`}
		}
		return upstreamReply{status: http.StatusOK, body: `{"data":` + agents + `}`}
	}})

	// GetCredits has response_body: balance; ListAgents has none.
	res, body := h.do(t, http.MethodGet, "/v1/credits", "", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, body %s", res.StatusCode, body)
	}
	assertJSON(t, body, `{"data":`+credits+`}`)

	_, body = h.do(t, http.MethodGet, "/v1/agents", "", nil)
	assertJSON(t, body, `{"data":`+agents+`}`)
}

func TestRESTResponseHeaders(t *testing.T) {
	t.Parallel()
	h := newRESTHarness(t, restHarnessConfig{reply: func(r *http.Request) upstreamReply {
		header := http.Header{
			"X-Ratelimit-Limit":     {"600"},
			"X-Ratelimit-Remaining": {"599"},
			"X-Ratelimit-Reset":     {"1772000000"},
			"Set-Cookie":            {"session=1"},
			"X-Internal":            {"secret"},
		}
		if r.URL.Path == "/v1/sessions/missing" {
			header.Set("Retry-After", "7")
			return upstreamReply{status: http.StatusNotFound, header: header,
				body: `{"error":{"message":"Session not found","code":"NOT_FOUND"}}`}
		}
		return upstreamReply{status: http.StatusOK, header: header, body: `{"data":{"tags":[],"total":0}}`}
	}})

	for _, path := range []string{"/v1/tags", "/v1/sessions/missing"} {
		res, body := h.do(t, http.MethodGet, path, "", nil)
		for name, want := range map[string]string{
			"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "599", "X-RateLimit-Reset": "1772000000",
		} {
			if got := res.Header.Get(name); got != want {
				t.Errorf("GET %s: %s = %q, want %q; body %s", path, name, got, want, body)
			}
		}
		for name := range res.Header {
			if strings.HasPrefix(name, "Grpc-") || name == "Set-Cookie" || name == "X-Internal" {
				t.Errorf("GET %s: header %s leaked to the REST response", path, name)
			}
		}
	}
	res, _ := h.do(t, http.MethodGet, "/v1/sessions/missing", "", nil)
	if got := res.Header.Get("Retry-After"); got != "7" {
		t.Errorf("Retry-After on an error = %q, want 7", got)
	}
}

// headerRecorder is an interceptor that keeps the request headers of the
// last call it saw.
type headerRecorder struct {
	mu     sync.Mutex
	header http.Header
}

var _ connect.Interceptor = (*headerRecorder)(nil)

func (h *headerRecorder) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		h.mu.Lock()
		h.header = req.Header().Clone()
		h.mu.Unlock()
		return next(ctx, req)
	}
}

func (h *headerRecorder) WrapStreamingClient(
	next connect.StreamingClientFunc,
) connect.StreamingClientFunc {
	return next
}

func (h *headerRecorder) WrapStreamingHandler(
	next connect.StreamingHandlerFunc,
) connect.StreamingHandlerFunc {
	return next
}

func TestRESTRequestHeadersReachInterceptors(t *testing.T) {
	t.Parallel()
	rec := &headerRecorder{}
	h := newRESTHarness(t, restHarnessConfig{interceptors: []connect.Interceptor{rec}})
	sent := http.Header{
		"Idempotency-Key":   {"idem-1"},
		"X-Idempotency-Key": {"idem-2"},
		"Cache-Control":     {"no-cache"},
		"Traceparent":       {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		"Tracestate":        {"vendor=1"},
		"Baggage":           {"tenant=acme"},
		"Cookie":            {"session=1"},
		"X-Custom":          {"no"},
		"Grpc-Metadata-Foo": {"no"},
	}
	h.do(t, http.MethodPost, "/v1/sessions", restSessionBody, sent)

	rec.mu.Lock()
	got := rec.header
	rec.mu.Unlock()
	if v := got.Values("Authorization"); len(v) != 1 || v[0] != "Bearer gc_live_test" {
		t.Errorf("Authorization = %q, want one value %q", v, "Bearer gc_live_test")
	}
	passed := []string{
		"Idempotency-Key", "X-Idempotency-Key", "Cache-Control", "Traceparent", "Tracestate", "Baggage",
	}
	for _, name := range passed {
		if !reflect.DeepEqual(got.Values(name), sent.Values(name)) {
			t.Errorf("%s = %q, want %q", name, got.Values(name), sent.Values(name))
		}
	}
	dropped := []string{"Cookie", "X-Custom", "Foo", "Grpc-Metadata-Foo", "X-Forwarded-For", "User-Agent"}
	for _, name := range dropped {
		if got.Get(name) != "" {
			t.Errorf("header %s reached the handler: %q", name, got.Get(name))
		}
	}

	// The idempotency key reaches the upstream through the request field.
	if key := h.last(t).header.Get("Idempotency-Key"); key != "idem-1" {
		t.Errorf("upstream Idempotency-Key = %q, want idem-1", key)
	}
}

func TestRESTXIdempotencyKey(t *testing.T) {
	t.Parallel()
	h := newRESTHarness(t, restHarnessConfig{})
	h.do(t, http.MethodPost, "/v1/sessions/bulk", `{"sessions":[`+restSessionBody+`]}`,
		http.Header{"X-Idempotency-Key": {"idem-x"}})
	if key := h.last(t).header.Get("Idempotency-Key"); key != "idem-x" {
		t.Errorf("upstream Idempotency-Key = %q, want idem-x", key)
	}
}
