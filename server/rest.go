package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// restFace serves the upstream's REST API under /v1 with grpc-gateway. Each
// call is transcoded to its RPC and sent through the in-process Connect
// handler, so it passes the same interceptors as the Connect, gRPC and
// gRPC-Web faces. Requests, responses and errors take the upstream's exact
// JSON shape. A restFace is immutable once built and safe for concurrent use.
type restFace struct {
	mux      *runtime.ServeMux
	keyCheck restKeyCheck
	maxBytes int64
	logger   *slog.Logger
	// methods maps gRPC method paths, such as
	// "/groundcam.v1.SessionService/GetSession", to the REST face's RPCs.
	methods map[string]*restMethod
	// routes are the HTTP rules, for the Allow header of a 405.
	routes []*upstream.Route
}

var _ http.Handler = (*restFace)(nil)

// restMethod is the REST face's view of one RPC.
type restMethod struct {
	// successStatus is the operation's success_status, 200 when unset.
	successStatus int
	// output is the response type, for the results of a failed bulk
	// create.
	output protoreflect.MessageType
	// responseBody is the response field that is the upstream's "data"
	// value; nil when the whole response is.
	responseBody protoreflect.FieldDescriptor
}

// queryParserOnce installs the query parameter parser once per process.
// grpc-gateway keeps the parser in a package variable that every
// runtime.ServeMux reads, so setting it again for a later mux would race
// with the requests of earlier ones.
var queryParserOnce sync.Once

// newRESTFace returns the REST face over connectHandler, which serves the
// Connect procedures of every service. Request bodies larger than
// maxBodyBytes are rejected with 413. keyCheck verifies the key of a
// request that the REST face rejects itself.
func newRESTFace(
	connectHandler http.Handler,
	maxBodyBytes int64,
	logger *slog.Logger,
	keyCheck restKeyCheck,
) (*restFace, error) {
	routes, err := upstream.LoadRoutes()
	if err != nil {
		return nil, fmt.Errorf("rest face: %w", err)
	}
	f := &restFace{
		keyCheck: keyCheck,
		maxBytes: maxBodyBytes,
		logger:   logger,
		methods:  make(map[string]*restMethod),
		routes:   routes.All(),
	}
	for _, r := range f.routes {
		m, err := newRESTMethod(r)
		if err != nil {
			return nil, fmt.Errorf("rest face: %w", err)
		}
		f.methods[grpcMethodPath(r.Method)] = m
	}

	opts := []runtime.ServeMuxOption{
		runtime.WithMarshalerOption(runtime.MIMEWildcard, restCodec{}),
		runtime.WithIncomingHeaderMatcher(restRequestHeader),
		runtime.WithOutgoingHeaderMatcher(restResponseHeader),
		runtime.WithOutgoingTrailerMatcher(restResponseHeader),
		runtime.WithForwardResponseOption(f.writeSuccessStatus),
		runtime.WithErrorHandler(f.handleError),
		runtime.WithRoutingErrorHandler(f.handleRoutingError),
		// The upstream splits paths on "/" only and decodes each segment.
		runtime.WithUnescapingMode(runtime.UnescapingModeAllExceptSlash),
		// The upstream supports neither X-HTTP-Method-Override nor form posts.
		runtime.WithDisableHTTPMethodOverride(),
		runtime.WithDisablePathLengthFallback(),
	}
	queryParserOnce.Do(func() {
		opts = append(opts, runtime.SetQueryParameterParser(restQueryParser{}))
	})
	f.mux = runtime.NewServeMux(opts...)

	conn := &inProcessConn{handler: connectHandler, logger: logger}
	if err := registerRESTServices(f.mux, conn); err != nil {
		return nil, fmt.Errorf("rest face: %w", err)
	}
	return f, nil
}

// registerRESTServices binds every service's HTTP rules to its client over
// conn.
func registerRESTServices(mux *runtime.ServeMux, conn *inProcessConn) error {
	ctx := context.Background()
	return joinFirst(
		groundcamv1.RegisterAuthServiceHandlerClient(ctx, mux,
			groundcamv1.NewAuthServiceClient(conn)),
		groundcamv1.RegisterAgentServiceHandlerClient(ctx, mux,
			groundcamv1.NewAgentServiceClient(conn)),
		groundcamv1.RegisterSessionServiceHandlerClient(ctx, mux,
			groundcamv1.NewSessionServiceClient(conn)),
		groundcamv1.RegisterCreditServiceHandlerClient(ctx, mux,
			groundcamv1.NewCreditServiceClient(conn)),
		groundcamv1.RegisterWebhookServiceHandlerClient(ctx, mux,
			groundcamv1.NewWebhookServiceClient(conn)),
		groundcamv1.RegisterOrganizationServiceHandlerClient(ctx, mux,
			groundcamv1.NewOrganizationServiceClient(conn)),
		groundcamv1.RegisterStatisticsServiceHandlerClient(ctx, mux,
			groundcamv1.NewStatisticsServiceClient(conn)),
		groundcamv1.RegisterConfigurationServiceHandlerClient(ctx, mux,
			groundcamv1.NewConfigurationServiceClient(conn)),
		groundcamv1.RegisterAppointmentServiceHandlerClient(ctx, mux,
			groundcamv1.NewAppointmentServiceClient(conn)),
	)
}

// joinFirst returns the first non-nil error.
func joinFirst(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func newRESTMethod(r *upstream.Route) (*restMethod, error) {
	output, err := protoregistry.GlobalTypes.FindMessageByName(r.Method.Output().FullName())
	if err != nil {
		return nil, fmt.Errorf("response type of %s: %w", r.Method.FullName(), err)
	}
	return &restMethod{
		successStatus: r.SuccessStatus(),
		output:        output,
		responseBody:  r.ResponseBody,
	}, nil
}

// grpcMethodPath returns the gRPC path of an RPC, such as
// "/groundcam.v1.SessionService/GetSession", the name grpc-gateway puts in
// the request context.
func grpcMethodPath(md protoreflect.MethodDescriptor) string {
	return "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
}

// method returns the RPC that grpc-gateway is serving in ctx.
func (f *restFace) method(ctx context.Context) (*restMethod, bool) {
	name, ok := runtime.RPCMethod(ctx)
	if !ok {
		return nil, false
	}
	m, ok := f.methods[name]
	return m, ok
}

// ServeHTTP rejects paths with an empty segment with 404, because no route
// of the upstream has one, caps the request body and passes the request to
// grpc-gateway without a Grpc-Timeout header.
func (f *restFace) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call := &restCall{remoteAddr: r.RemoteAddr, host: r.Host}
	req := r.WithContext(context.WithValue(r.Context(), restCallKey{}, call))
	if hasEmptySegment(req.URL.EscapedPath()) {
		f.handleRoutingError(req.Context(), f.mux, restCodec{}, w, req, http.StatusNotFound)
		return
	}
	if !utf8.ValidString(req.URL.Path) || !validQuery(req.URL.RawQuery) {
		// Proto strings are UTF-8, so such a path or parameter cannot
		// reach the handler at all.
		f.writeRequestError(req.Context(), w, req, &restError{
			status:  http.StatusBadRequest,
			code:    "INVALID_ENCODING",
			message: "the path or query string decodes to bytes that are not UTF-8: percent-encode UTF-8 text",
		})
		return
	}
	req.Body = &restBody{ReadCloser: http.MaxBytesReader(w, r.Body, f.maxBytes), call: call}
	if req.Header.Get("Grpc-Timeout") != "" {
		// grpc-gateway would read a gRPC deadline from this header, which
		// the upstream ignores, and reject a malformed one.
		req.Header = r.Header.Clone()
		req.Header.Del("Grpc-Timeout")
	}
	f.mux.ServeHTTP(w, req)
}

// validQuery reports whether every name and value of a raw query string
// decodes to UTF-8.
func validQuery(raw string) bool {
	values, err := url.ParseQuery(raw)
	if err != nil {
		return true // the query parser reports malformed escapes itself
	}
	for name, list := range values {
		if !utf8.ValidString(name) {
			return false
		}
		for _, v := range list {
			if !utf8.ValidString(v) {
				return false
			}
		}
	}
	return true
}

// hasEmptySegment reports whether the path has an empty segment, as in
// "/v1/sessions/" or "/v1//agents". The root path "/" has none.
func hasEmptySegment(path string) bool {
	return path != "/" && (strings.Contains(path, "//") || strings.HasSuffix(path, "/"))
}

// writeSuccessStatus sets the status of a successful response to the
// operation's success_status, such as 201 for the creates.
func (f *restFace) writeSuccessStatus(
	ctx context.Context,
	w http.ResponseWriter,
	_ proto.Message,
) error {
	if m, ok := f.method(ctx); ok && m.successStatus != http.StatusOK {
		w.WriteHeader(m.successStatus)
	}
	return nil
}

// restCall is the state of one REST request that the codec and the error
// handler share. The codec cannot return the upstream's status and code
// itself, because grpc-gateway turns its errors into a gRPC status.
type restCall struct {
	remoteAddr string
	host       string
	// failure is the request body's rejection, when the codec rejected it.
	failure *restError
	// invoked reports whether the in-process call started, so the error
	// handler can tell the REST face's own rejections from the call's
	// errors.
	invoked bool
}

type restCallKey struct{}

// restCallFrom returns the state of the REST request that ctx belongs to.
func restCallFrom(ctx context.Context) (*restCall, bool) {
	call, ok := ctx.Value(restCallKey{}).(*restCall)
	return call, ok
}

// restRequestHeaders are the request headers that reach the Connect
// handler, under their own names. grpc-gateway forwards Authorization
// itself.
var restRequestHeaders = map[string]bool{
	"Idempotency-Key":   true,
	"X-Idempotency-Key": true,
	"Cache-Control":     true,
	"Traceparent":       true,
	"Tracestate":        true,
	"Baggage":           true,
}

// restRequestHeader is grpc-gateway's incoming header matcher.
func restRequestHeader(key string) (string, bool) {
	key = textproto.CanonicalMIMEHeaderKey(key)
	if !restRequestHeaders[key] {
		return "", false
	}
	return strings.ToLower(key), true
}

// restResponseHeader is grpc-gateway's outgoing header and trailer
// matcher. It keeps the rate-limit headers, Retry-After and the cache's
// X-Cache, X-Cache-* and Age headers under their own names and drops the
// rest.
func restResponseHeader(key string) (string, bool) {
	key = textproto.CanonicalMIMEHeaderKey(key)
	switch key {
	case "X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset", "Retry-After",
		"X-Cache", "Age":
		return key, true
	}
	if strings.HasPrefix(key, "X-Cache-") {
		return key, true
	}
	return "", false
}
