package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jonboulle/clockwork"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/internal/testutil"
	"github.com/groundcam/groundcam-gateway/simulator"
	"github.com/groundcam/groundcam-gateway/simulator/fault"
)

func TestRESTUpstreamErrors(t *testing.T) {
	t.Parallel()
	type errorCase struct {
		path   string
		status int
		header http.Header
		body   string
	}
	cases := []errorCase{
		{"/v1/sessions/missing", http.StatusNotFound, nil,
			`{"error":{"message":"Session not found","code":"NOT_FOUND"}}`},
		{"/v1/sessions/done/cancel", http.StatusConflict, nil,
			`{"error":{"message":"Session is already completed","code":"INVALID_STATUS"}}`},
		{"/v1/sessions/s1/resend-sms", http.StatusTooManyRequests, http.Header{"Retry-After": {"30"}},
			`{"error":{"message":"SMS limit reached for this session","code":"SMS_LIMIT_REACHED"}}`},
		{"/v1/sessions", http.StatusPaymentRequired, nil,
			`{"error":{"message":"Insufficient credits","code":"INSUFFICIENT_CREDITS"}}`},
		{"/v1/appointments", http.StatusForbidden, nil,
			`{"error":{"message":"Agent is not a member of this organization","code":"AGENT_NOT_MEMBER"}}`},
		{"/v1/webhooks", http.StatusConflict, nil,
			`{"error":{"message":"A webhook with this URL already exists","code":"DUPLICATE_URL"}}`},
		{"/v1/sessions/s2/end", http.StatusInternalServerError, nil,
			`{"error":{"message":"Failed to send SMS","code":"SMS_FAILED"}}`},
		{"/v1/credits", http.StatusUnauthorized, nil,
			`{"error":{"message":"Invalid API key","code":"INVALID_API_KEY"}}`},
	}
	byPath := make(map[string]errorCase)
	for _, c := range cases {
		byPath[c.path] = c
	}
	h := newRESTHarness(t, restHarnessConfig{reply: func(r *http.Request) upstreamReply {
		c := byPath[r.URL.Path]
		return upstreamReply{status: c.status, header: c.header, body: c.body}
	}})
	bodies := map[string]string{
		"/v1/sessions":     restSessionBody,
		"/v1/appointments": restAppointmentBody,
		"/v1/webhooks":     `{"url":"https://crm.test/hooks","events":["session.created"]}`,
	}
	for _, c := range cases {
		method := http.MethodPost
		if c.path == "/v1/sessions/missing" || c.path == "/v1/credits" {
			method = http.MethodGet
		}
		res, body := h.do(t, method, c.path, bodies[c.path], nil)
		if res.StatusCode != c.status {
			t.Errorf("%s %s: status = %d, want %d", method, c.path, res.StatusCode, c.status)
		}
		assertJSON(t, body, c.body)
		for name, values := range c.header {
			if got := res.Header.Get(name); got != values[0] {
				t.Errorf("%s %s: %s = %q, want %q", method, c.path, name, got, values[0])
			}
		}
	}
}

func TestRESTBulkAllFailed(t *testing.T) {
	t.Parallel()
	const data = `{"results":[{"index":0,"success":false,` +
		`"error":{"message":"Agent is not a member of this organization","code":"AGENT_NOT_MEMBER"}}],` +
		`"summary":{"total":1,"succeeded":0,"failed":1}}`
	h := newRESTHarness(t, restHarnessConfig{reply: func(*http.Request) upstreamReply {
		return upstreamReply{status: http.StatusBadRequest, header: http.Header{"X-Ratelimit-Remaining": {"9"}},
			body: `{"data":` + data + `}`}
	}})
	res, body := h.do(t, http.MethodPost, "/v1/sessions/bulk", `{"sessions":[`+restSessionBody+`]}`, nil)
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", res.StatusCode)
	}
	assertJSON(t, body, `{"data":`+data+`}`)
	if got := res.Header.Get("X-RateLimit-Remaining"); got != "9" {
		t.Errorf("X-RateLimit-Remaining = %q, want 9", got)
	}
}

// failingInterceptor fails the calls of some procedures with fixed errors,
// or panics, before they reach the handler.
type failingInterceptor struct {
	errs map[string]error
}

var _ connect.Interceptor = failingInterceptor{}

func (f failingInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		err, ok := f.errs[req.Spec().Procedure]
		switch {
		case !ok:
			return next(ctx, req)
		case err == nil:
			panic("interceptor failed on purpose")
		}
		return nil, err
	}
}

func (f failingInterceptor) WrapStreamingClient(
	next connect.StreamingClientFunc,
) connect.StreamingClientFunc {
	return next
}

func (f failingInterceptor) WrapStreamingHandler(
	next connect.StreamingHandlerFunc,
) connect.StreamingHandlerFunc {
	return next
}

func TestRESTGatewayErrors(t *testing.T) {
	t.Parallel()
	withMeta := connect.NewError(connect.CodeResourceExhausted, errors.New("too many calls"))
	withMeta.Meta().Set("Retry-After", "3")
	withMeta.Meta().Set("X-Secret", "no")
	failing := failingInterceptor{errs: map[string]error{
		"/groundcam.v1.CreditService/GetCredits": connect.NewError(connect.CodeDeadlineExceeded,
			errors.New("the call timed out")),
		"/groundcam.v1.OrganizationService/GetOrganization": connect.NewError(connect.CodeUnavailable,
			errors.New("try again")),
		"/groundcam.v1.ConfigurationService/ListTags": withMeta,
		"/groundcam.v1.ConfigurationService/ListClosureTypes": upstream.NewError(connect.CodeUnavailable,
			http.StatusBadGateway, upstream.ReasonUnavailable, "upstream is unreachable"),
		// nil makes the interceptor panic.
		"/groundcam.v1.StatisticsService/GetStats": nil,
	}}
	h := newRESTHarness(t, restHarnessConfig{interceptors: []connect.Interceptor{failing}})
	cases := []struct {
		path          string
		status        int
		code, message string
	}{
		{"/v1/credits", http.StatusGatewayTimeout, "DEADLINE_EXCEEDED", "the call timed out"},
		{"/v1/organization", http.StatusServiceUnavailable, "UNAVAILABLE", "try again"},
		{"/v1/tags", http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "too many calls"},
		{"/v1/closure-types", http.StatusBadGateway, upstream.ReasonUnavailable, "upstream is unreachable"},
		{"/v1/stats", http.StatusInternalServerError, "INTERNAL", "internal error"},
	}
	for _, c := range cases {
		res, body := h.do(t, http.MethodGet, c.path, "", nil)
		t.Run(strings.TrimPrefix(c.path, "/v1/"), func(t *testing.T) {
			assertError(t, res, body, c.status, c.code, c.message)
			if c.path == "/v1/tags" {
				if got := res.Header.Get("Retry-After"); got != "3" {
					t.Errorf("Retry-After = %q, want 3", got)
				}
				if got := res.Header.Get("X-Secret"); got != "" {
					t.Errorf("X-Secret = %q reached the REST response", got)
				}
			}
		})
	}
}

func TestRESTMissingAPIKey(t *testing.T) {
	t.Parallel()
	h := newRESTHarness(t, restHarnessConfig{})
	res, body := h.do(t, http.MethodGet, "/v1/credits", "", http.Header{"Authorization": nil})
	assertError(t, res, body, http.StatusUnauthorized, upstream.ReasonUnauthorized, "Missing API key: send the header Authorization: Bearer gc_live_...")
}

func TestRESTRouting(t *testing.T) {
	t.Parallel()
	h := newRESTHarness(t, restHarnessConfig{})
	cases := []struct {
		method, path string
		status       int
		allow        string
		message      string
	}{
		{http.MethodGet, "/v1/nowhere", http.StatusNotFound, "",
			"No route for GET /v1/nowhere; see the API reference for the available /v1 paths"},
		{http.MethodGet, "/v1/sessions/", http.StatusNotFound, "",
			"No route for GET /v1/sessions/; see the API reference for the available /v1 paths"},
		{http.MethodGet, "/v1", http.StatusNotFound, "",
			"No route for GET /v1; see the API reference for the available /v1 paths"},
		{http.MethodGet, "/elsewhere", http.StatusNotFound, "",
			"No route for GET /elsewhere; the REST API is served under /v1"},
		{http.MethodDelete, "/v1/sessions", http.StatusMethodNotAllowed, "GET, POST",
			"Method DELETE is not allowed on /v1/sessions; allowed methods: GET, POST"},
		{http.MethodPut, "/v1/sessions/abc", http.StatusMethodNotAllowed, "GET, PATCH",
			"Method PUT is not allowed on /v1/sessions/abc; allowed methods: GET, PATCH"},
		{http.MethodDelete, "/v1/sessions/bulk", http.StatusMethodNotAllowed, "GET, PATCH, POST",
			"Method DELETE is not allowed on /v1/sessions/bulk; allowed methods: GET, PATCH, POST"},
		{http.MethodPost, "/v1/appointments/available-slots", http.StatusMethodNotAllowed, "GET, PATCH",
			"Method POST is not allowed on /v1/appointments/available-slots; allowed methods: GET, PATCH"},
		{http.MethodGet, "/v1/webhooks/w1/test", http.StatusMethodNotAllowed, "POST",
			"Method GET is not allowed on /v1/webhooks/w1/test; allowed methods: POST"},
	}
	for _, c := range cases {
		res, body := h.do(t, c.method, c.path, "", nil)
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			code := "NOT_FOUND"
			if c.status == http.StatusMethodNotAllowed {
				code = "METHOD_NOT_ALLOWED"
			}
			assertError(t, res, body, c.status, code, c.message)
			if got := res.Header.Get("Allow"); got != c.allow {
				t.Errorf("Allow = %q, want %q", got, c.allow)
			}
		})
	}
	if n := len(h.forwarded()); n != 0 {
		t.Errorf("the upstream received %d requests for routing errors, want 0", n)
	}
	if n := h.keyChecks(); n != 1 {
		t.Errorf("the gateway verified the key %d times, want 1", n)
	}

	// A literal segment wins over {id}.
	h.do(t, http.MethodGet, "/v1/appointments/available-slots?agentId=a&date=2026-03-20", "", nil)
	if got := h.last(t).path; got != "/v1/appointments/available-slots" {
		t.Errorf("upstream path = %q, want /v1/appointments/available-slots", got)
	}
}

func TestInProcessConnNoStreams(t *testing.T) {
	t.Parallel()
	conn := &inProcessConn{handler: http.NotFoundHandler(), logger: slog.New(slog.DiscardHandler)}
	_, err := conn.NewStream(context.Background(), nil, "/groundcam.v1.SessionService/GetSession")
	if connect.CodeOf(err) != connect.CodeUnimplemented {
		t.Errorf("NewStream error = %v, want unimplemented", err)
	}
}

func TestInProcessConnErrorDetails(t *testing.T) {
	t.Parallel()
	info := upstream.NewError(connect.CodeNotFound, http.StatusNotFound, "NOT_FOUND", "Session not found")
	unknown, err := connect.NewErrorDetail(&anypb.Any{
		TypeUrl: "type.googleapis.com/acme.v1.Unknown", Value: []byte{8, 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	info.AddDetail(unknown)
	fail := func(
		context.Context,
		*connect.Request[groundcamv1.GetSessionRequest],
	) (*connect.Response[groundcamv1.GetSessionResponse], error) {
		return nil, info
	}
	handler := connect.NewUnaryHandler("/groundcam.v1.SessionService/GetSession", fail)
	conn := &inProcessConn{handler: handler, logger: slog.New(slog.DiscardHandler)}

	err = conn.Invoke(context.Background(), "/groundcam.v1.SessionService/GetSession",
		&groundcamv1.GetSessionRequest{Id: "x"}, &groundcamv1.GetSessionResponse{})
	var cerr *connect.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("Invoke error = %T %v, want *connect.Error", err, err)
	}
	if cerr.Code() != connect.CodeNotFound || cerr.Message() != "Session not found" {
		t.Errorf("error = %v, want not_found: Session not found", cerr)
	}
	got, ok := upstream.ErrorInfoOf(cerr)
	if !ok || got.GetReason() != "NOT_FOUND" || got.GetMetadata()[upstream.MetaHTTPStatus] != "404" {
		t.Errorf("ErrorInfo = %v, want reason NOT_FOUND and http_status 404", got)
	}
	if n := len(cerr.Details()); n != 2 {
		t.Fatalf("details = %d, want 2", n)
	}
	if typ := cerr.Details()[1].Type(); typ != "acme.v1.Unknown" {
		t.Errorf("unregistered detail type = %q, want acme.v1.Unknown", typ)
	}
}

func TestInProcessConnResponseWithoutConnectError(t *testing.T) {
	t.Parallel()
	conn := &inProcessConn{handler: http.NotFoundHandler(), logger: slog.New(slog.DiscardHandler)}
	err := conn.Invoke(context.Background(), "/groundcam.v1.Nothing/Here",
		&groundcamv1.GetSessionRequest{}, &groundcamv1.GetSessionResponse{})
	if connect.CodeOf(err) != connect.CodeUnimplemented {
		t.Errorf("error = %v, want unimplemented for a 404 without a Connect body", err)
	}
}

func TestRESTIgnoresGrpcTimeout(t *testing.T) {
	t.Parallel()
	h := newRESTHarness(t, restHarnessConfig{})
	res, body := h.do(t, http.MethodGet, "/v1/tags", "", http.Header{"Grpc-Timeout": {"nonsense"}})
	if res.StatusCode != http.StatusOK {
		t.Errorf("status with a malformed Grpc-Timeout = %d, want 200; body %s", res.StatusCode, body)
	}
}

// simREST is a gateway whose REST face is served by httptest, in front of
// a simulator on a fake clock, for the cases that depend on how the
// upstream itself treats keys.
type simREST struct {
	sim     *simulator.Server
	gateway *httptest.Server
	// keys are the simulator's demo keys: acme, bistro, revoked, orphan.
	keys map[string]string
}

// newSimREST starts a simulator and a gateway in front of it. With
// defaultKey set, the gateway's default key is the Acme key.
func newSimREST(t *testing.T, defaultKey bool) *simREST {
	t.Helper()
	sim, err := simulator.New(simulator.WithClock(clockwork.NewFakeClockAt(conformanceStart)))
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	simSrv := httptest.NewServer(sim)
	t.Cleanup(func() {
		simSrv.Close()
		sim.Close()
	})
	demo := sim.Keys()
	s := &simREST{sim: sim, keys: map[string]string{
		"acme": demo[0].Key, "bistro": demo[1].Key, "revoked": demo[3].Key, "orphan": demo[4].Key,
	}}

	client, err := upstream.New(simSrv.URL)
	if err != nil {
		t.Fatalf("upstream client: %v", err)
	}
	cfg := Config{Upstream: client, Logger: slog.New(slog.DiscardHandler)}
	if defaultKey {
		cfg.DefaultAPIKey = s.keys["acme"]
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	s.gateway = httptest.NewServer(srv)
	t.Cleanup(s.gateway.Close)
	return s
}

// do sends a REST request to the gateway with the Authorization header
// values auth, none when auth is nil, and returns the response with its
// body read.
func (s *simREST) do(t *testing.T, method, target, body string, auth []string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, s.gateway.URL+target,
		strings.NewReader(body))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	if auth != nil {
		req.Header["Authorization"] = auth
	}
	return testutil.Do(t, s.gateway.Client(), req)
}

// keyChecks returns the number of key verifications the simulator
// received.
func (s *simREST) keyChecks() int {
	return s.sim.Calls()["GET "+keyCheckPath]
}

func TestRESTKeyErrorsPrecedeRequestErrors(t *testing.T) {
	t.Parallel()
	s := newSimREST(t, false)
	keys := []struct {
		name   string
		auth   []string
		status int
		code   string
	}{
		{"no key", nil, http.StatusUnauthorized, upstream.ReasonUnauthorized},
		{"empty header", []string{""}, http.StatusUnauthorized, upstream.ReasonUnauthorized},
		{"basic scheme", []string{"Basic Zm9vOmJhcg=="}, http.StatusUnauthorized, upstream.ReasonUnauthorized},
		{"unknown key", []string{"Bearer gc_live_unknown"}, http.StatusUnauthorized, "INVALID_API_KEY"},
		{"revoked key", []string{"Bearer " + s.keys["revoked"]}, http.StatusUnauthorized, "API_KEY_REVOKED"},
		// The routing cases below keep their own error for this key.
		{"key of a deleted organization", []string{"Bearer " + s.keys["orphan"]},
			http.StatusNotFound, "ORG_NOT_FOUND"},
		{"valid key", []string{"Bearer " + s.keys["acme"]}, 0, ""},
	}
	requests := []struct {
		name, method, target, body string
		status                     int
		code                       string
		// routing marks a path or method that no route has. The upstream
		// routes before it looks up the key's organization.
		routing bool
	}{
		{"malformed JSON", http.MethodPost, "/v1/sessions", `{"agentId":`,
			http.StatusBadRequest, "INVALID_JSON", false},
		{"value of the wrong type", http.MethodPost, "/v1/sessions", `{"clientPhone":5}`,
			http.StatusBadRequest, "INVALID_FIELD", false},
		{"unknown webhook event", http.MethodPost, "/v1/webhooks",
			`{"url":"https://crm.test/h","events":["x.y"]}`, http.StatusBadRequest, "INVALID_EVENT", false},
		{"query parameter that does not parse", http.MethodGet, "/v1/sessions?limit=abc", "",
			http.StatusBadRequest, "INVALID_FIELD", false},
		{"path that is not UTF-8", http.MethodGet, "/v1/sessions/%FF", "",
			http.StatusBadRequest, "INVALID_ENCODING", false},
		{"body over the size cap", http.MethodPost, "/v1/sessions",
			`{"notes":"` + strings.Repeat("x", DefaultMaxRequestBytes) + `"}`,
			http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", false},
		{"unknown path", http.MethodGet, "/v1/nowhere", "", http.StatusNotFound, "NOT_FOUND", true},
		{"path with a trailing slash", http.MethodGet, "/v1/sessions/", "",
			http.StatusNotFound, "NOT_FOUND", true},
		{"wrong method", http.MethodDelete, "/v1/sessions", "",
			http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", true},
	}
	for _, req := range requests {
		for _, key := range keys {
			status, code := key.status, key.code
			if status == 0 || (req.routing && status == http.StatusNotFound) {
				status, code = req.status, req.code
			}
			res, body := s.do(t, req.method, req.target, req.body, key.auth)
			t.Run(req.name+"/"+key.name, func(t *testing.T) {
				assertError(t, res, body, status, code, "")
			})
		}
	}

	// Outside /v1 the upstream serves nothing and checks no key.
	before := s.keyChecks()
	res, body := s.do(t, http.MethodGet, "/elsewhere", "", nil)
	assertError(t, res, body, http.StatusNotFound, "NOT_FOUND", "the REST API is served under /v1")
	if n := s.keyChecks() - before; n != 0 {
		t.Errorf("the gateway verified the key of a path outside /v1 %d times, want 0", n)
	}

	for route, n := range s.sim.Calls() {
		if route != "total" && route != "GET "+keyCheckPath && n > 0 {
			t.Errorf("the simulator received %d requests of %s, want only key checks", n, route)
		}
	}
}

func TestRESTKeyCheckRemembersValidKeys(t *testing.T) {
	t.Parallel()
	s := newSimREST(t, false)
	for range 3 {
		res, body := s.do(t, http.MethodPost, "/v1/sessions", `{"agentId":`,
			[]string{"Bearer " + s.keys["acme"]})
		assertError(t, res, body, http.StatusBadRequest, "INVALID_JSON", "")
	}
	if n := s.keyChecks(); n != 1 {
		t.Errorf("the gateway verified a valid key %d times for 3 requests, want 1", n)
	}

	// Request validation, on every face, shares the memory of valid keys.
	res, body := s.do(t, http.MethodPost, "/v1/sessions", `{}`, []string{"Bearer " + s.keys["acme"]})
	assertError(t, res, body, http.StatusBadRequest, "MISSING_FIELD", "")
	if n := s.keyChecks(); n != 1 {
		t.Errorf("key checks after a request that fails validation = %d, want 1", n)
	}

	// A rejected key is verified again on every request.
	for range 2 {
		res, body := s.do(t, http.MethodPost, "/v1/sessions", `{"agentId":`,
			[]string{"Bearer gc_live_unknown"})
		assertError(t, res, body, http.StatusUnauthorized, "INVALID_API_KEY", "")
	}
	if n := s.keyChecks(); n != 3 {
		t.Errorf("key checks after 2 requests with an unknown key = %d, want 3", n)
	}
}

func TestRESTKeyCheckRateLimited(t *testing.T) {
	t.Parallel()
	s := newSimREST(t, false)
	s.sim.SetRateLimit(1, time.Hour)
	auth := []string{"Bearer " + s.keys["bistro"]}

	res, body := s.do(t, http.MethodGet, "/v1/credits", "", auth)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("first request: status = %d, want 200; body %s", res.StatusCode, body)
	}
	res, body = s.do(t, http.MethodPost, "/v1/sessions", `{"agentId":`, auth)
	assertError(t, res, body, http.StatusTooManyRequests, "RATE_LIMITED", "Rate limit exceeded")
	if got := res.Header.Get("Retry-After"); got == "" {
		t.Error("the 429 has no Retry-After header")
	}
	if got := res.Header.Get("X-RateLimit-Remaining"); got != "0" {
		t.Errorf("X-RateLimit-Remaining = %q, want 0", got)
	}
}

func TestRESTKeyCheckDefaultKey(t *testing.T) {
	t.Parallel()
	s := newSimREST(t, true)
	res, body := s.do(t, http.MethodPost, "/v1/sessions", `{"agentId":`, nil)
	assertError(t, res, body, http.StatusBadRequest, "INVALID_JSON", "")

	// A header sent empty is a malformed credential, not a request for the
	// default key.
	res, body = s.do(t, http.MethodPost, "/v1/sessions", `{"agentId":`, []string{""})
	assertError(t, res, body, http.StatusUnauthorized, upstream.ReasonUnauthorized, "Missing API key")
}

func TestRESTKeyCheckUpstreamFailure(t *testing.T) {
	t.Parallel()
	s := newSimREST(t, false)
	id, err := s.sim.Faults().Add(fault.Rule{Method: http.MethodGet, Path: keyCheckPath,
		Status: http.StatusServiceUnavailable})
	if err != nil {
		t.Fatalf("add fault: %v", err)
	}
	unknown := []string{"Bearer gc_live_unknown"}

	// A key that cannot be verified does not hide the request's error.
	res, body := s.do(t, http.MethodPost, "/v1/sessions", `{"agentId":`, unknown)
	assertError(t, res, body, http.StatusBadRequest, "INVALID_JSON", "")
	// The credential interceptor rejects a missing key without the upstream.
	res, body = s.do(t, http.MethodPost, "/v1/sessions", `{"agentId":`, nil)
	assertError(t, res, body, http.StatusUnauthorized, upstream.ReasonUnauthorized, "Missing API key")

	// The failed verification was not remembered as a valid key.
	s.sim.Faults().Remove(id)
	res, body = s.do(t, http.MethodPost, "/v1/sessions", `{"agentId":`, unknown)
	assertError(t, res, body, http.StatusUnauthorized, "INVALID_API_KEY", "")
}
