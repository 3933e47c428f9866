package upstream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"go.opentelemetry.io/otel/metric/noop"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/groundcam/groundcam-gateway/internal/contracttest"
)

// FuzzDecodeResponse sends arbitrary upstream statuses, Retry-After values
// and bodies through a client with a retry policy, from reading the body to
// decoding it or mapping it to an error. No input may panic, and every error
// must be a *connect.Error with a valid code.
func FuzzDecodeResponse(f *testing.F) {
	routes := fuzzRoutes(f)
	for _, seed := range decodeSeeds(f, routes) {
		f.Add(seed.route, seed.status, seed.retryAfter, seed.body)
	}
	upstream := &cannedUpstream{}
	client := fuzzClient(f, upstream)

	f.Fuzz(func(t *testing.T, routeIndex uint8, status uint16, retryAfter string, body []byte) {
		route := routes[int(routeIndex)%len(routes)]
		code := 200 + int(status)%400
		header := http.Header{"Content-Type": {"application/json"}, "Retry-After": {retryAfter}}
		upstream.set(code, header, body)

		ctx, cancel := context.WithTimeout(WithAPIKey(t.Context(), "gc_live_fuzz"), time.Second)
		defer cancel()
		result, err := client.Call(ctx, route.Method.FullName(), fuzzRequest(route), route.newResponse())

		checkCallError(t, code, body, result, err)
		checkRetryAfter(t, retryAfter)
	})
}

// checkCallError checks the outcome of one call whose upstream sent status
// and body.
func checkCallError(t *testing.T, status int, body []byte, result *Result, err error) {
	t.Helper()
	if err == nil {
		if status/100 != 2 || result.Status != status {
			t.Fatalf("HTTP %d: call succeeded with status %d", status, result.Status)
		}
		return
	}
	var cerr *connect.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("HTTP %d: error %T is not a *connect.Error: %v", status, err, err)
	}
	if cerr.Code() < connect.CodeCanceled || cerr.Code() > connect.CodeUnauthenticated {
		t.Fatalf("HTTP %d: invalid code %d: %v", status, cerr.Code(), err)
	}
	if cerr.Code() == connect.CodeUnknown {
		t.Fatalf("HTTP %d: error has no specific code: %v", status, err)
	}
	if _, ok := ErrorInfoOf(err); !ok && cerr.Code() != connect.CodeCanceled {
		t.Fatalf("HTTP %d: error has no ErrorInfo detail: %v", status, err)
	}
	if len(body) >= 24 && strings.Contains(cerr.Message(), string(body)) {
		t.Fatalf("HTTP %d: error message contains the raw upstream body: %v", status, err)
	}
}

// checkRetryAfter checks that no header value gives a negative wait.
func checkRetryAfter(t *testing.T, value string) {
	t.Helper()
	header := http.Header{
		"Retry-After":           {value},
		"X-Ratelimit-Remaining": {"0"},
		"X-Ratelimit-Reset":     {value},
	}
	if wait, ok := retryAfter(header, time.Now()); ok && wait < 0 {
		t.Fatalf("retryAfter(%q) = %v, want no negative wait", value, wait)
	}
}

// cannedUpstream is an http.RoundTripper that returns the same response to
// every request and never touches the network. It is not safe for
// concurrent use: a fuzz process runs one input at a time.
type cannedUpstream struct {
	status int
	header http.Header
	body   []byte
}

func (u *cannedUpstream) set(status int, header http.Header, body []byte) {
	u.status, u.header, u.body = status, header, body
}

func (u *cannedUpstream) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	return &http.Response{
		StatusCode: u.status,
		Header:     u.header.Clone(),
		Body:       io.NopCloser(bytes.NewReader(u.body)),
		Request:    req,
	}, nil
}

// fuzzClient returns a client whose requests go to upstream, with short
// retries and a breaker that never opens.
func fuzzClient(f *testing.F, upstream http.RoundTripper) *Client {
	f.Helper()
	policy := NewPolicy(PolicyConfig{
		MaxAttempts: 2, BaseBackoff: time.Microsecond, MaxBackoff: time.Microsecond,
		BreakerFailures: 1 << 30, RetryBudget: 10,
	}, WithPolicyLogger(slog.New(slog.DiscardHandler)), WithPolicyMeterProvider(noop.NewMeterProvider()))
	client, err := New("http://upstream.invalid/v1",
		WithHTTPClient(&http.Client{Transport: upstream}),
		WithPolicy(policy),
		WithMaxResponseBytes(64<<10),
		WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		f.Fatalf("new client: %v", err)
	}
	return client
}

// fuzzRoutes returns every route, sorted by method name so that the route
// index of a stored input keeps its meaning.
func fuzzRoutes(f *testing.F) []*Route {
	f.Helper()
	rs, err := LoadRoutes()
	if err != nil {
		f.Fatalf("load routes: %v", err)
	}
	routes := rs.All()
	slices.SortFunc(routes, func(a, b *Route) int {
		return strings.Compare(string(a.Method.FullName()), string(b.Method.FullName()))
	})
	return routes
}

// fuzzRequest returns an empty request of route with its path fields set.
func fuzzRequest(route *Route) protoreflect.ProtoMessage {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(route.Method.Input().FullName())
	if err != nil {
		panic("no Go type for " + string(route.Method.Input().FullName()))
	}
	req := mt.New().Interface()
	for _, s := range route.segments {
		if s.field != nil {
			req.ProtoReflect().Set(s.field, protoreflect.ValueOfString("Xk9mPq2rT4wZ"))
		}
	}
	return req
}

// decodeSeed is one seed input of FuzzDecodeResponse.
type decodeSeed struct {
	route      uint8
	status     uint16 // added to 200
	retryAfter string
	body       []byte
}

// decodeSeeds returns hand-written seeds and, when the upstream contract
// is available, one seed per response example in it.
func decodeSeeds(f *testing.F, routes []*Route) []decodeSeed {
	f.Helper()
	index := func(name protoreflect.FullName) uint8 {
		return uint8(slices.IndexFunc(routes, func(r *Route) bool { return r.Method.FullName() == name }))
	}
	get, create, list := index(methodGetSession), index(methodCreateSession), index(methodListSessions)
	seeds := []decodeSeed{
		{get, 0, "", []byte(`{"data": {"id": "Xk9mPq2rT4wZ", "status": "pending", "createdAt": "2026-02-14T10:30:00.000Z"}}`)},
		{list, 0, "", []byte(`{"data": [], "pagination": {"hasMore": false, "nextCursor": null}}`)},
		{get, 0, "", []byte(`{"data": {"injected": "malformed JSON"`)},
		{get, 0, "", []byte(`{"data": null}`)},
		{get, 0, "", nil},
		{create, 209, "", []byte(`{"error": {"message": "A request with this idempotency key is currently being processed", "code": "IDEMPOTENCY_CONFLICT"}}`)},
		{get, 229, "30", []byte(`{"error": {"message": "Rate limit exceeded", "code": "RATE_LIMITED"}}`)},
		{get, 229, "Sun, 01 Mar 2026 12:00:02 GMT", []byte(`{"error": {"message": "Rate limit exceeded"}}`)},
		{get, 303, "0", []byte(`<html><body>503 Service Unavailable</body></html>`)},
		{get, 204, "", []byte(`{"error": "not an object"}`)},
	}
	for _, ex := range contracttest.ResponseExamples(f) {
		status, err := strconv.Atoi(ex.Status)
		if err != nil || status < 200 || status > 599 {
			continue
		}
		template := contracttest.FillTemplate("/v1"+ex.Path, "{}")
		route := slices.IndexFunc(routes, func(r *Route) bool {
			return r.HTTPMethod == ex.Method && contracttest.FillTemplate(r.Template, "{}") == template
		})
		seeds = append(seeds, decodeSeed{uint8(max(route, 0)), uint16(status - 200), "", ex.Body})
	}
	return seeds
}
