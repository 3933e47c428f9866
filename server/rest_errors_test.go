package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
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
	if n := len(h.requests()); n != 0 {
		t.Errorf("the upstream received %d requests for routing errors, want 0", n)
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
