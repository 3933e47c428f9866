// Package upstream is the gateway's client of the GroundCam REST API. It
// turns an RPC's request message into the upstream HTTP call that the RPC's
// HTTP rule and the JSON mapping options describe, and the upstream's
// response or error back into a message or a Connect error.
package upstream

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/groundcam/groundcam-gateway/adapters/jsonmap"
	"github.com/groundcam/groundcam-gateway/adapters/telemetry"
)

// DefaultMaxResponseBytes caps how much of an upstream response body the
// client reads. The largest documented responses (100 sessions or
// deliveries with their payloads) stay well below it.
const DefaultMaxResponseBytes = 4 << 20

// idempotencyHeader is the request header that makes an upstream create
// safe to repeat.
const idempotencyHeader = "Idempotency-Key"

// Client calls the upstream GroundCam REST API. It is safe for concurrent
// use.
type Client struct {
	base      *url.URL
	basePath  string // decoded, without a trailing /v1
	baseRaw   string // basePath as escaped in the URL
	http      *http.Client
	routes    *Routes
	maxBody   int64
	logger    *slog.Logger
	newKey    func() string
	userAgent string
	policy    *Policy
}

// Option configures a [Client].
type Option func(*Client)

// WithHTTPClient sets the HTTP client, whose transport should reuse
// connections and carry the telemetry transport.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.http = hc }
}

// WithMaxResponseBytes caps the size of the upstream response bodies that
// the client reads; larger bodies fail the call.
func WithMaxResponseBytes(n int64) Option {
	return func(c *Client) { c.maxBody = n }
}

// WithLogger sets the logger for retries and dropped responses.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) { c.logger = l }
}

// WithIdempotencyKeys sets the generator of the Idempotency-Key sent on
// creates whose caller gave none.
func WithIdempotencyKeys(next func() string) Option {
	return func(c *Client) { c.newKey = next }
}

// WithUserAgent sets the User-Agent header of upstream requests.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// WithPolicy sets the retry, rate-limit, circuit-breaker and concurrency
// policy. Without it every call makes exactly one attempt.
func WithPolicy(p *Policy) Option {
	return func(c *Client) { c.policy = p }
}

// WithRoutes replaces the routes read from the embedded HTTP rules.
func WithRoutes(rs *Routes) Option {
	return func(c *Client) { c.routes = rs }
}

// New returns a client of the upstream API rooted at baseURL, such as
// "https://api.groundcam.io/v1". A trailing "/v1" is optional: the routes
// carry it.
func New(baseURL string, opts ...Option) (*Client, error) {
	base, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("upstream URL %q: %w", baseURL, err)
	}
	if base.Scheme != "http" && base.Scheme != "https" || base.Host == "" {
		return nil, fmt.Errorf("upstream URL %q: use an absolute http or https URL such as https://api.groundcam.io/v1", baseURL)
	}
	path := strings.TrimSuffix(base.Path, "/")
	c := &Client{
		base:      base,
		basePath:  strings.TrimSuffix(path, "/v1"),
		baseRaw:   strings.TrimSuffix(strings.TrimSuffix(base.EscapedPath(), "/"), "/v1"),
		http:      &http.Client{Transport: http.DefaultTransport},
		maxBody:   DefaultMaxResponseBytes,
		logger:    slog.Default(),
		newKey:    randomKey,
		userAgent: "groundcam-gateway",
	}
	for _, opt := range opts {
		opt(c)
	}
	if c.routes == nil {
		if c.routes, err = LoadRoutes(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Routes returns the routes the client calls.
func (c *Client) Routes() *Routes {
	return c.routes
}

// Result describes a successful upstream call.
type Result struct {
	// Status is the upstream's HTTP status, such as 201.
	Status int
	// Header holds the upstream response headers that callers forward:
	// X-RateLimit-* and Retry-After.
	Header http.Header
	// Attempts is the number of HTTP requests the call made.
	Attempts int
}

// Call sends req to the upstream operation of method and decodes the
// response's data into res. The API key comes from the context (see
// [WithAPIKey]). Errors are *connect.Error values whose code follows
// [CodeFor] and that carry an ErrorInfo detail with the upstream code and
// HTTP status.
func (c *Client) Call(ctx context.Context, method protoreflect.FullName, req, res proto.Message) (*Result, error) {
	route, ok := c.routes.Lookup(method)
	if !ok {
		return nil, connect.NewError(connect.CodeUnimplemented, fmt.Errorf("no upstream route for %s", method))
	}
	key, ok := APIKeyFrom(ctx)
	if !ok {
		return nil, errMissingKey()
	}
	call, err := c.newCall(route, req, key)
	if err != nil {
		return nil, err
	}

	ctx = telemetry.WithRoute(ctx, route.HTTPMethod, route.Template)
	resp, attempts, err := c.policy.execute(ctx, c, call)
	if err != nil {
		return nil, err
	}
	if err := c.decode(route, resp, res); err != nil {
		return nil, err
	}
	return &Result{Status: resp.status, Header: forwardable(resp.header), Attempts: attempts}, nil
}

// call is an upstream request built once and sent once per attempt.
type call struct {
	route      *Route
	url        string
	body       []byte
	header     http.Header
	idempotent bool
}

func (c *Client) newCall(route *Route, req proto.Message, key string) (*call, error) {
	msg := req.ProtoReflect()
	path, err := route.expand(msg)
	if err != nil {
		return nil, err
	}
	u := *c.base
	// Path holds the decoded form and RawPath the escaped one, so that an
	// id such as "a/b" travels as a%2Fb and is not escaped a second time.
	decoded, err := url.PathUnescape(path)
	if err != nil {
		return nil, connect.NewError(connect.CodeInternal, fmt.Errorf("build path of %s: %w", route.Name(), err))
	}
	u.Path = c.basePath + decoded
	u.RawPath = c.baseRaw + path
	u.RawQuery = ""

	cl := &call{route: route, header: make(http.Header)}
	omit := route.boundElsewhere
	if route.Body == "*" {
		if cl.body, err = (jsonmap.MarshalOptions{Omit: omit}).Marshal(req); err != nil {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("encode request body: %w", err))
		}
		cl.header.Set("Content-Type", "application/json")
	} else {
		query, err := jsonmap.EncodeQuery(req, omit)
		if err != nil {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("encode query: %w", err))
		}
		u.RawQuery = query.Encode()
	}
	cl.url = u.String()

	cl.header.Set("Authorization", "Bearer "+key)
	cl.header.Set("Accept", "application/json")
	cl.header.Set("User-Agent", c.userAgent)
	for _, h := range route.headers {
		value := ""
		if msg.Has(h.field) {
			value = msg.Get(h.field).String()
		}
		if value == "" && http.CanonicalHeaderKey(h.name) == idempotencyHeader {
			value = c.newKey()
		}
		if value != "" {
			cl.header.Set(h.name, value)
		}
		if http.CanonicalHeaderKey(h.name) == idempotencyHeader {
			cl.idempotent = true
		}
	}
	if route.HTTPMethod == http.MethodGet {
		cl.idempotent = true
	}
	return cl, nil
}

// expand fills the path template with the message's field values.
func (r *Route) expand(msg protoreflect.Message) (string, error) {
	var b strings.Builder
	for _, s := range r.segments {
		if s.field == nil {
			b.WriteString(s.literal)
			continue
		}
		value := msg.Get(s.field).String()
		if value == "" {
			return "", connect.NewError(connect.CodeInvalidArgument, fmt.Errorf(
				"missing %s: %s needs it in its path; set the %q field", s.field.JSONName(), r.Name(), s.field.Name()))
		}
		b.WriteString(url.PathEscape(value))
	}
	return b.String(), nil
}

// boundElsewhere reports fields that travel in the path or a header, never
// in the body or the query string. Only top-level fields of the request are
// bound. The encoders also call it for the fields of nested messages, whose
// numbers may equal those of the request's own bound fields.
func (r *Route) boundElsewhere(fd protoreflect.FieldDescriptor) bool {
	if fd.ContainingMessage().FullName() != r.Method.Input().FullName() {
		return false
	}
	if r.pathFields[fd.Number()] {
		return true
	}
	for _, h := range r.headers {
		if h.field.Number() == fd.Number() {
			return true
		}
	}
	return false
}

// response is an upstream response read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// send makes one HTTP attempt and reads the whole, size-capped body.
func (c *Client) send(ctx context.Context, cl *call) (*response, error) {
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.route.HTTPMethod, cl.url, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header = cl.header.Clone()
	if cl.body != nil {
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(cl.body)), nil }
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, &bodyError{status: resp.StatusCode, header: resp.Header, err: err}
	}
	if int64(len(data)) > c.maxBody {
		// Drain a little more so the connection can be reused when the
		// rest is short, then give up on it.
		_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
		return nil, &bodyError{status: resp.StatusCode, header: resp.Header, err: errTooLarge{limit: c.maxBody}}
	}
	if resp.StatusCode/100 != 2 {
		// The client span ends when the body is closed, so the upstream's
		// error code is recorded on it now.
		if code := errorCode(data); code != "" {
			telemetry.SetUpstreamError(ctx, code)
		}
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// errorCode returns the code of an upstream error body, or "".
func errorCode(body []byte) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Error.Code
}

// decode checks the status and decodes the response's data into res.
func (c *Client) decode(route *Route, resp *response, res proto.Message) error {
	data, found := dataMember(resp.body)
	if !found {
		var err error
		if data, err = decodeEnvelope(resp.body); err != nil {
			return invalidResponse(route, resp, err)
		}
	}
	if len(data) == 0 {
		return invalidResponse(route, resp, errors.New(`the body has no "data" member`))
	}
	target := res
	if route.ResponseBody != nil {
		target = res.ProtoReflect().Mutable(route.ResponseBody).Message().Interface()
	}
	if err := jsonmap.Unmarshal(data, target); err != nil {
		// dataMember left the data value unchecked, so report invalid JSON
		// as encoding/json words it.
		if _, jsonErr := decodeEnvelope(resp.body); jsonErr != nil {
			return invalidResponse(route, resp, jsonErr)
		}
		return invalidResponse(route, resp, err)
	}
	return nil
}

// decodeEnvelope returns the "data" member of body with encoding/json,
// which checks the whole body.
func decodeEnvelope(body []byte) (json.RawMessage, error) {
	var envelope struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil {
		return nil, fmt.Errorf("decode body: %w", err)
	}
	return envelope.Data, nil
}

// forwardedHeaders are the upstream response headers that reach callers.
var forwardedHeaders = []string{
	"X-Ratelimit-Limit",
	"X-Ratelimit-Remaining",
	"X-Ratelimit-Reset",
	"Retry-After",
}

// ForwardedHeaders returns the names of the upstream response headers that
// the gateway returns to its callers.
func ForwardedHeaders() []string {
	return append([]string(nil), forwardedHeaders...)
}

func forwardable(h http.Header) http.Header {
	out := make(http.Header, len(forwardedHeaders))
	for _, name := range forwardedHeaders {
		if v := h.Values(name); len(v) > 0 {
			out[name] = v
		}
	}
	return out
}

func randomKey() string {
	return "gw_" + rand.Text()
}
