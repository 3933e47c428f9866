package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/timestamppb"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/internal/testutil"
)

// testKey is the API key of the client tests.
const testKey = "gc_live_clienttest0123456789"

// recordedRequest is one request the test upstream received.
type recordedRequest struct {
	method, path, rawPath string
	query                 url.Values
	header                http.Header
	body                  map[string]any
	rawBody               string
}

// answer is the response of the test upstream.
type answer struct {
	status int
	header http.Header
	body   string
}

// testUpstream is a real HTTP server that records requests and sends a
// configured response.
type testUpstream struct {
	server *httptest.Server

	mu       sync.Mutex
	requests []recordedRequest
	reply    answer
}

func newTestUpstream(t *testing.T) *testUpstream {
	t.Helper()
	u := &testUpstream{reply: answer{status: http.StatusOK, body: `{"data":{}}`}}
	u.server = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.server.Close)
	return u
}

func (u *testUpstream) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	rec := recordedRequest{
		method: r.Method, path: r.URL.Path, rawPath: r.URL.EscapedPath(), query: r.URL.Query(),
		header: r.Header.Clone(), rawBody: string(raw),
	}
	_ = json.Unmarshal(raw, &rec.body)
	u.mu.Lock()
	u.requests = append(u.requests, rec)
	reply := u.reply
	u.mu.Unlock()
	for name, values := range reply.header {
		w.Header()[name] = values
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(reply.status)
	_, _ = io.WriteString(w, reply.body)
}

// answer sets the response to the following requests.
func (u *testUpstream) answer(status int, body string, header http.Header) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.reply = answer{status: status, header: header, body: body}
}

// last returns the latest request, failing when there is none.
func (u *testUpstream) last(t *testing.T) recordedRequest {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.requests) == 0 {
		t.Fatal("the upstream received no request")
	}
	return u.requests[len(u.requests)-1]
}

func (u *testUpstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.requests)
}

// newTestClient returns a client of u rooted at path, such as "/v1".
func newTestClient(t *testing.T, u *testUpstream, path string, opts ...Option) *Client {
	t.Helper()
	c, err := New(u.server.URL+path, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// callClient makes one call of method with the test key.
func callClient(c *Client, method string, req proto.Message) (proto.Message, *Result, error) {
	var res proto.Message = &groundcamv1.GetSessionResponse{}
	if route, ok := c.Routes().Lookup(protoreflect.FullName(method)); ok {
		res = route.newResponse()
	}
	result, err := c.Call(WithAPIKey(context.Background(), testKey), protoreflect.FullName(method), req, res)
	return res, result, err
}

func TestRoutesCoverEveryRPC(t *testing.T) {
	t.Parallel()
	routes, err := LoadRoutes()
	if err != nil {
		t.Fatalf("LoadRoutes: %v", err)
	}
	count := 0
	protoregistry.GlobalFiles.RangeFilesByPackage("groundcam.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			methods := fd.Services().Get(i).Methods()
			for j := range methods.Len() {
				count++
				route, ok := routes.Lookup(methods.Get(j).FullName())
				if !ok {
					t.Errorf("%s has no route", methods.Get(j).FullName())
					continue
				}
				if !strings.HasPrefix(route.Template, "/v1/") || route.Operation.GetId() == "" {
					t.Errorf("route %s of %s lacks the /v1 prefix or an operation id", route.Name(), route.Method.FullName())
				}
			}
		}
		return true
	})
	if count != 30 || len(routes.All()) != 30 {
		t.Errorf("RPCs = %d, routes = %d, want 30 of each", count, len(routes.All()))
	}
}

func TestClientRequestShape(t *testing.T) {
	t.Parallel()
	u := newTestUpstream(t)
	c := newTestClient(t, u, "/v1", WithUserAgent("groundcam-gateway/test"),
		WithIdempotencyKeys(func() string { return "gw_generated" }))

	t.Run("path parameter is escaped", func(t *testing.T) {
		if _, _, err := callClient(c, "groundcam.v1.SessionService.GetSession", &groundcamv1.GetSessionRequest{Id: "a/b c"}); err != nil {
			t.Fatalf("GetSession: %v", err)
		}
		got := u.last(t)
		if got.method != http.MethodGet || got.rawPath != "/v1/sessions/a%2Fb%20c" {
			t.Errorf("request = %s %s, want GET /v1/sessions/a%%2Fb%%20c", got.method, got.rawPath)
		}
		for name, want := range map[string]string{
			"Authorization": "Bearer " + testKey, "Accept": "application/json", "User-Agent": "groundcam-gateway/test",
		} {
			if got.header.Get(name) != want {
				t.Errorf("header %s = %q, want %q", name, got.header.Get(name), want)
			}
		}
		if got.header.Get("Idempotency-Key") != "" {
			t.Error("a read carries an Idempotency-Key")
		}
	})

	t.Run("query parameters", func(t *testing.T) {
		_, _, err := callClient(c, "groundcam.v1.SessionService.ListSessions", &groundcamv1.ListSessionsRequest{
			Status: groundcamv1.SessionStatus_SESSION_STATUS_COMPLETED, Limit: proto.Int32(50),
			CreatedAfter: timestamppb.New(time.Date(2026, 3, 1, 8, 0, 0, 123456789, time.UTC)),
			Metadata:     map[string]string{"department": "support", "odoo_ticket_id": "12345"},
		})
		if err != nil {
			t.Fatalf("ListSessions: %v", err)
		}
		got := u.last(t)
		want := url.Values{
			"status": {"completed"}, "limit": {"50"}, "createdAfter": {"2026-03-01T08:00:00.123Z"},
			"metadata.department": {"support"}, "metadata.odoo_ticket_id": {"12345"},
		}
		if got.query.Encode() != want.Encode() {
			t.Errorf("query = %s\nwant    %s", got.query.Encode(), want.Encode())
		}
		if got.rawBody != "" {
			t.Errorf("a GET carries the body %q", got.rawBody)
		}
	})

	t.Run("nested fields share numbers with bound fields", func(t *testing.T) {
		_, _, err := callClient(c, "groundcam.v1.SessionService.CreateSessionsBulk", &groundcamv1.CreateSessionsBulkRequest{
			IdempotencyKey: proto.String("bulk-7"),
			Sessions:       []*groundcamv1.BulkSessionInput{{ClientPhone: "+33612345678", AgentId: "a1"}},
		})
		if err != nil {
			t.Fatalf("CreateSessionsBulk: %v", err)
		}
		got := u.last(t)
		item := got.body["sessions"].([]any)[0].(map[string]any)
		// BulkSessionInput.client_phone is field 1, like the request's
		// idempotency_key, which travels in a header.
		if item["clientPhone"] != "+33612345678" || item["agentId"] != "a1" {
			t.Errorf("bulk item = %v, want its clientPhone and agentId", item)
		}
		if _, ok := got.body["idempotencyKey"]; ok {
			t.Error("the idempotency key is in the body")
		}
		if got.header.Get("Idempotency-Key") != "bulk-7" || got.header.Get("Content-Type") != "application/json" {
			t.Errorf("headers = %v, want Idempotency-Key bulk-7 and a JSON body", got.header)
		}
	})

	t.Run("path field stays out of the body", func(t *testing.T) {
		_, _, err := callClient(c, "groundcam.v1.SessionService.UpdateSession", &groundcamv1.UpdateSessionRequest{
			Id: "s1", Notes: &groundcamv1.NullableString{}, SessionTags: &groundcamv1.StringList{Values: []string{"x"}},
		})
		if err != nil {
			t.Fatalf("UpdateSession: %v", err)
		}
		got := u.last(t)
		if got.method != http.MethodPatch || got.path != "/v1/sessions/s1" {
			t.Errorf("request = %s %s, want PATCH /v1/sessions/s1", got.method, got.path)
		}
		if got.rawBody != `{"notes":null,"sessionTags":["x"]}` {
			t.Errorf("body = %s, want notes null and the tags only", got.rawBody)
		}
	})

	t.Run("generated idempotency key", func(t *testing.T) {
		_, _, err := callClient(c, "groundcam.v1.SessionService.CreateSession", &groundcamv1.CreateSessionRequest{
			ClientPhone: proto.String("+33612345678"), AgentId: "a1",
		})
		if err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		if got := u.last(t).header.Get("Idempotency-Key"); got != "gw_generated" {
			t.Errorf("Idempotency-Key = %q, want the generated gw_generated", got)
		}
	})
}

func TestClientBaseURL(t *testing.T) {
	t.Parallel()
	u := newTestUpstream(t)
	tests := []struct{ base, want string }{
		{"", "/v1/credits"},
		{"/v1", "/v1/credits"},
		{"/v1/", "/v1/credits"},
		{"/groundcam/v1", "/groundcam/v1/credits"},
		{"/groundcam", "/groundcam/v1/credits"},
	}
	for _, tc := range tests {
		c := newTestClient(t, u, tc.base)
		if _, _, err := callClient(c, "groundcam.v1.CreditService.GetCredits", &groundcamv1.GetCreditsRequest{}); err != nil {
			t.Fatalf("GetCredits with base %q: %v", tc.base, err)
		}
		if got := u.last(t).path; got != tc.want {
			t.Errorf("base %q: path = %s, want %s", tc.base, got, tc.want)
		}
	}
	for _, bad := range []string{"api.groundcam.io/v1", "ftp://api.groundcam.io", "http://", ":%"} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%q) succeeded, want an error", bad)
		}
	}
}

func TestClientDecodesResponses(t *testing.T) {
	t.Parallel()
	u := newTestUpstream(t)
	c := newTestClient(t, u, "/v1")
	u.answer(http.StatusCreated, `{"data":{"id":"s1","status":"pending","clientEmail":null,"sessionTags":[],"sms":{"status":"skipped"}}}`,
		http.Header{
			"X-Ratelimit-Limit": {"600"}, "X-Ratelimit-Remaining": {"599"}, "X-Ratelimit-Reset": {"1767225600"},
			"Set-Cookie": {"session=secret"}, "X-Internal": {"x"},
		})
	res, result, err := callClient(c, "groundcam.v1.SessionService.CreateSession", &groundcamv1.CreateSessionRequest{AgentId: "a"})
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	created := res.(*groundcamv1.CreateSessionResponse).GetSession()
	if created.GetId() != "s1" || created.GetStatus() != groundcamv1.SessionStatus_SESSION_STATUS_PENDING {
		t.Errorf("session = %v, want s1 pending", created)
	}
	if created.GetClientEmail() == nil || created.GetClientEmail().Value != nil {
		t.Errorf("clientEmail = %v, want set to null", created.GetClientEmail())
	}
	if result.Status != http.StatusCreated || result.Attempts != 1 {
		t.Errorf("result = %+v, want status 201 after 1 attempt", result)
	}
	if len(result.Header) != 3 || result.Header.Get("X-Ratelimit-Remaining") != "599" {
		t.Errorf("forwarded headers = %v, want the three X-RateLimit-* headers only", result.Header)
	}
}

func TestClientInvalidResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		limit  int64
	}{
		{"not JSON", http.StatusOK, `<html>oops</html>`, 0},
		{"no data member", http.StatusOK, `{"result":{}}`, 0},
		{"wrong type", http.StatusOK, `{"data":{"available":"many"}}`, 0},
		{"too large", http.StatusOK, `{"data":{"available":1,"padding":"` + strings.Repeat("x", 200) + `"}}`, 64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newTestUpstream(t)
			var opts []Option
			if tc.limit > 0 {
				opts = append(opts, WithMaxResponseBytes(tc.limit))
			}
			c := newTestClient(t, u, "/v1", opts...)
			u.answer(tc.status, tc.body, nil)
			_, _, err := callClient(c, "groundcam.v1.CreditService.GetCredits", &groundcamv1.GetCreditsRequest{})
			checkClientError(t, err, connect.CodeUnavailable, ReasonInvalidResponse, 502)
			if strings.Contains(err.Error(), "oops") || strings.Contains(err.Error(), "xxxx") {
				t.Errorf("error %q shows the upstream body", err)
			}
		})
	}
}

// checkClientError checks err's code, ErrorInfo reason and http_status.
func checkClientError(t *testing.T, err error, code connect.Code, reason string, status int) *connect.Error {
	t.Helper()
	var cerr *connect.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("error = %v, want a %v *connect.Error", err, code)
	}
	if cerr.Code() != code {
		t.Errorf("code = %v, want %v (%v)", cerr.Code(), code, err)
	}
	info, ok := ErrorInfoOf(err)
	if !ok {
		t.Fatalf("error %v has no ErrorInfo", err)
	}
	if info.GetReason() != reason || info.GetMetadata()[MetaHTTPStatus] != strconv.Itoa(status) {
		t.Errorf("ErrorInfo = %s %s, want %s %d", info.GetReason(), info.GetMetadata()[MetaHTTPStatus], reason, status)
	}
	if info.GetDomain() != ErrorDomain {
		t.Errorf("ErrorInfo domain = %q, want %q", info.GetDomain(), ErrorDomain)
	}
	if strings.Contains(err.Error(), testKey) {
		t.Errorf("error %q shows the API key", err)
	}
	return cerr
}

func TestClientMapsUpstreamErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		code   string
		want   connect.Code
	}{
		{400, "INVALID_PHONE", connect.CodeInvalidArgument},
		{401, "INVALID_API_KEY", connect.CodeUnauthenticated},
		{402, "INSUFFICIENT_CREDITS", connect.CodeFailedPrecondition},
		{403, "AGENT_NOT_MEMBER", connect.CodePermissionDenied},
		{404, "NOT_FOUND", connect.CodeNotFound},
		{405, "METHOD_NOT_ALLOWED", connect.CodeInvalidArgument},
		{409, "IDEMPOTENCY_CONFLICT", connect.CodeAborted},
		{409, "INVALID_STATUS", connect.CodeFailedPrecondition},
		{409, "DUPLICATE_URL", connect.CodeAlreadyExists},
		{409, "SLOT_CONFLICT", connect.CodeAlreadyExists},
		{409, "LIMIT_REACHED", connect.CodeResourceExhausted},
		{409, "SOMETHING_NEW", connect.CodeAborted},
		{413, "REQUEST_TOO_LARGE", connect.CodeInvalidArgument},
		{429, "RATE_LIMITED", connect.CodeResourceExhausted},
		{500, "SMS_FAILED", connect.CodeUnavailable},
		{503, "MAINTENANCE", connect.CodeUnavailable},
	}
	u := newTestUpstream(t)
	c := newTestClient(t, u, "/v1")
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.status)+" "+tc.code, func(t *testing.T) {
			if got := CodeFor(tc.status, tc.code); got != tc.want {
				t.Errorf("CodeFor(%d, %s) = %v, want %v", tc.status, tc.code, got, tc.want)
			}
		})
	}
	// The same table over HTTP, in one sequence because the upstream's
	// answer is shared.
	for _, tc := range tests {
		message := "upstream says " + tc.code
		u.answer(tc.status, `{"error":{"message":"`+message+`","code":"`+tc.code+`"}}`,
			http.Header{"X-Ratelimit-Remaining": {"7"}})
		_, _, err := callClient(c, "groundcam.v1.CreditService.GetCredits", &groundcamv1.GetCreditsRequest{})
		cerr := checkClientError(t, err, tc.want, tc.code, tc.status)
		if cerr.Message() != message {
			t.Errorf("%d %s: message = %q, want the upstream's %q", tc.status, tc.code, cerr.Message(), message)
		}
		if cerr.Meta().Get("X-Ratelimit-Remaining") != "7" {
			t.Errorf("%d %s: error headers = %v, want X-RateLimit-Remaining", tc.status, tc.code, cerr.Meta())
		}
	}

	// A body that is not the error envelope gets a generic code and message.
	u.answer(http.StatusBadGateway, `<html>proxy error for key `+testKey+`</html>`, nil)
	_, _, err := callClient(c, "groundcam.v1.CreditService.GetCredits", &groundcamv1.GetCreditsRequest{})
	cerr := checkClientError(t, err, connect.CodeUnavailable, "HTTP_502", 502)
	if strings.Contains(cerr.Message(), "proxy error") {
		t.Errorf("message %q shows the raw body", cerr.Message())
	}
}

func TestClientRetryInfo(t *testing.T) {
	t.Parallel()
	u := newTestUpstream(t)
	c := newTestClient(t, u, "/v1")
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"Retry-After seconds", http.Header{"Retry-After": {"42"}}, 42 * time.Second},
		{"X-RateLimit-Reset of a spent quota", http.Header{
			"X-Ratelimit-Remaining": {"0"},
			"X-Ratelimit-Reset":     {strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)},
		}, time.Hour},
	}
	for _, tc := range tests {
		u.answer(http.StatusTooManyRequests, `{"error":{"message":"slow down","code":"RATE_LIMITED"}}`, tc.header)
		_, _, err := callClient(c, "groundcam.v1.CreditService.GetCredits", &groundcamv1.GetCreditsRequest{})
		cerr := checkClientError(t, err, connect.CodeResourceExhausted, "RATE_LIMITED", 429)
		var info *errdetails.RetryInfo
		for _, d := range cerr.Details() {
			if v, valueErr := d.Value(); valueErr == nil {
				if ri, ok := v.(*errdetails.RetryInfo); ok {
					info = ri
				}
			}
		}
		if info == nil {
			t.Fatalf("%s: no RetryInfo detail", tc.name)
		}
		if got := info.GetRetryDelay().AsDuration(); got > tc.want || got < tc.want-5*time.Second {
			t.Errorf("%s: RetryInfo delay = %v, want about %v", tc.name, got, tc.want)
		}
	}
}

func TestClientFailsWithoutUpstream(t *testing.T) {
	t.Parallel()
	u := newTestUpstream(t)
	c := newTestClient(t, u, "/v1")

	_, err := c.Call(context.Background(), "groundcam.v1.CreditService.GetCredits",
		&groundcamv1.GetCreditsRequest{}, &groundcamv1.GetCreditsResponse{})
	checkClientError(t, err, connect.CodeUnauthenticated, ReasonUnauthorized, 401)
	_, _, err = callClient(c, "groundcam.v1.SessionService.GetSession", &groundcamv1.GetSessionRequest{})
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("GetSession without id = %v, want invalid_argument", err)
	}
	_, _, err = callClient(c, "groundcam.v1.NoService.Nothing", &groundcamv1.GetSessionRequest{Id: "x"})
	if connect.CodeOf(err) != connect.CodeUnimplemented {
		t.Errorf("unknown method = %v, want unimplemented", err)
	}
	if n := u.count(); n != 0 {
		t.Errorf("the upstream received %d requests, want none", n)
	}

	refused := "http://" + testutil.FreeAddr(t) + "/v1"
	down, err := New(refused)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	_, err = down.Call(WithAPIKey(context.Background(), testKey), "groundcam.v1.CreditService.GetCredits",
		&groundcamv1.GetCreditsRequest{}, &groundcamv1.GetCreditsResponse{})
	checkClientError(t, err, connect.CodeUnavailable, ReasonUnavailable, 502)

	ctx, cancel := context.WithDeadline(WithAPIKey(context.Background(), testKey), time.Now().Add(-time.Second))
	defer cancel()
	_, err = c.Call(ctx, "groundcam.v1.CreditService.GetCredits", &groundcamv1.GetCreditsRequest{}, &groundcamv1.GetCreditsResponse{})
	checkClientError(t, err, connect.CodeDeadlineExceeded, ReasonTimeout, 504)
}
