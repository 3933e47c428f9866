package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"connectrpc.com/connect"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
)

// restError is an error response in the upstream's shape: a status and
// the body {"error": {"message": ..., "code": ...}}.
type restError struct {
	status  int
	code    string
	message string
	// header contains response headers to set, such as Allow.
	header http.Header
	// cause is the internal error behind a 500, logged and never sent.
	cause error
}

// Error returns the message.
func (e *restError) Error() string { return e.message }

// restErrorBody is the upstream's error body.
type restErrorBody struct {
	Error struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	} `json:"error"`
}

// handleError is grpc-gateway's error handler. It rebuilds the upstream's
// response from err:
//
//   - a request body that the codec rejected gets the upstream's status
//     and code for it, such as 400 INVALID_JSON or 413, unless the key
//     check finds a bad key (see [restFace.writeRequestError]);
//   - an error with the per-item results of a bulk create gets the
//     upstream's status with {"data": <results and summary>};
//   - an error with the gateway's ErrorInfo gets the status of its
//     http_status metadata and the ErrorInfo reason as the code;
//   - any other error gets the HTTP status of its gRPC code and the code's
//     name in upper case, such as 504 DEADLINE_EXCEEDED, except that a
//     query string that does not parse is the upstream's 400 INVALID_FIELD,
//     after the key check as for a body.
//
// The rate-limit headers and Retry-After of the error's metadata are
// copied. The body never carries error details or anything else.
func (f *restFace) handleError(
	ctx context.Context,
	_ *runtime.ServeMux,
	_ runtime.Marshaler,
	w http.ResponseWriter,
	r *http.Request,
	err error,
) {
	call, _ := restCallFrom(ctx)
	if call != nil && call.failure != nil {
		f.writeRequestError(ctx, w, r, call.failure)
		return
	}
	var cerr *connect.Error
	if !errors.As(err, &cerr) {
		if call != nil && !call.invoked {
			// grpc-gateway rejected the request before the call, such as
			// a query parameter that does not parse.
			f.writeRequestError(ctx, w, r, localError(err))
			return
		}
		f.writeLocalError(ctx, w, r, localError(err))
		return
	}
	e := callError(cerr)
	if f.writeResults(ctx, w, cerr, e.header) {
		return
	}
	writeError(w, e)
}

// callError maps the error of a call to the upstream's shape: the status
// of its ErrorInfo's http_status metadata and the ErrorInfo reason as the
// code, or else the HTTP status of its gRPC code and the code's name. The
// headers are the ones of its metadata that the REST face returns.
func callError(cerr *connect.Error) *restError {
	e := &restError{
		status:  runtime.HTTPStatusFromCode(codes.Code(cerr.Code())),
		code:    codeName(cerr.Code()),
		message: cerr.Message(),
		header:  forwardedHeaders(cerr.Meta()),
	}
	if info, ok := upstream.ErrorInfoOf(cerr); ok {
		e.status = infoStatus(info, e.status)
		e.code = info.GetReason()
	}
	return e
}

// writeResults writes the per-item results that cerr carries, such as a
// bulk create whose items all failed, as {"data": ...} with the upstream's
// status. It reports whether cerr had them.
func (f *restFace) writeResults(
	ctx context.Context,
	w http.ResponseWriter,
	cerr *connect.Error,
	header http.Header,
) bool {
	m, ok := f.method(ctx)
	if !ok {
		return false
	}
	res := m.output.New().Interface()
	if !upstream.ResultsOf(cerr, res) {
		return false
	}
	data := res
	if m.responseBody != nil {
		data = res.ProtoReflect().Get(m.responseBody).Message().Interface()
	}
	body, err := appendEnvelope(make([]byte, 0, 512), data)
	if err != nil {
		f.logger.ErrorContext(ctx, "encode REST error results", "error", err)
		return false
	}
	statusCode := http.StatusBadRequest
	if info, ok := upstream.ErrorInfoOf(cerr); ok {
		statusCode = infoStatus(info, statusCode)
	}
	maps.Copy(w.Header(), header)
	writeBody(w, statusCode, body)
	return true
}

// localError maps an error raised by grpc-gateway before the call, or while
// writing the response, to the upstream's shape.
func localError(err error) *restError {
	var statusErr *runtime.HTTPStatusError
	if errors.As(err, &statusErr) {
		return &restError{
			status:  statusErr.HTTPStatus,
			code:    statusName(statusErr.HTTPStatus),
			message: statusErr.Err.Error(),
		}
	}
	if st, ok := status.FromError(err); ok {
		if st.Code() == codes.InvalidArgument {
			// grpc-gateway raises it before the call for a query string,
			// or a header it reads, that does not parse.
			return &restError{status: http.StatusBadRequest, code: "INVALID_FIELD", message: st.Message()}
		}
		return &restError{
			status:  runtime.HTTPStatusFromCode(st.Code()),
			code:    codeName(connect.Code(st.Code())),
			message: st.Message(),
		}
	}
	return &restError{status: http.StatusInternalServerError, code: "INTERNAL",
		message: "internal error: the gateway failed while writing the response", cause: err}
}

// infoStatus returns the HTTP status in the ErrorInfo metadata, or
// fallback when it has none.
func infoStatus(info *errdetails.ErrorInfo, fallback int) int {
	n, err := strconv.Atoi(info.GetMetadata()[upstream.MetaHTTPStatus])
	if err != nil || n < 400 || n > 599 {
		return fallback
	}
	return n
}

// codeName returns the upper-case name of a code, such as
// "INVALID_ARGUMENT".
func codeName(c connect.Code) string {
	return strings.ToUpper(c.String())
}

// statusName returns the upper-case name of an HTTP status, such as
// "BAD_REQUEST".
func statusName(code int) string {
	return strings.ToUpper(strings.ReplaceAll(http.StatusText(code), " ", "_"))
}

// forwardedHeaders returns the headers of meta that the REST face returns.
func forwardedHeaders(meta http.Header) http.Header {
	out := make(http.Header)
	for name, values := range meta {
		if canonical, ok := restResponseHeader(name); ok {
			out[canonical] = values
		}
	}
	return out
}

// handleRoutingError is grpc-gateway's routing error handler: 404
// NOT_FOUND for a path that no route has, and 405 METHOD_NOT_ALLOWED with
// an Allow header for a path that other methods have, in the upstream's
// words. The upstream checks the key and the rate limit of a /v1 request
// before it routes the request, and finds the key's organization only
// after, so a key error other than 404 ORG_NOT_FOUND takes precedence.
func (f *restFace) handleRoutingError(
	ctx context.Context,
	_ *runtime.ServeMux,
	_ runtime.Marshaler,
	w http.ResponseWriter,
	r *http.Request,
	httpStatus int,
) {
	var e *restError
	switch allow := f.allowedMethods(r.URL.EscapedPath()); {
	case httpStatus == http.StatusMethodNotAllowed && allow != "":
		e = &restError{
			status: http.StatusMethodNotAllowed,
			code:   "METHOD_NOT_ALLOWED",
			message: fmt.Sprintf("Method %s is not allowed on %s; allowed methods: %s",
				r.Method, r.URL.Path, allow),
			header: http.Header{"Allow": {allow}},
		}
	case httpStatus == http.StatusMethodNotAllowed || httpStatus == http.StatusNotFound:
		e = &restError{status: http.StatusNotFound, code: "NOT_FOUND", message: notFoundMessage(r)}
	default:
		e = &restError{status: httpStatus, code: statusName(httpStatus),
			message: fmt.Sprintf("Invalid request path %q", r.URL.Path)}
	}
	if keyErr := f.keyError(r); keyErr != nil && keyErr.status != http.StatusNotFound {
		e = keyErr
	}
	f.writeLocalError(ctx, w, r, e)
}

// notFoundMessage returns the message of a 404 for an unknown path.
func notFoundMessage(r *http.Request) string {
	path := r.URL.Path
	if isAPIPath(path) {
		return "No route for " + r.Method + " " + path +
			"; see the API reference for the available /v1 paths"
	}
	return "No route for " + r.Method + " " + path + "; the REST API is served under /v1"
}

// isAPIPath reports whether path is /v1 or below it, where the upstream
// serves its API.
func isAPIPath(path string) bool {
	return path == "/v1" || strings.HasPrefix(path, "/v1/")
}

// allowedMethods returns the methods of the routes that match the escaped
// path, sorted and joined with ", ", or "" when none does.
func (f *restFace) allowedMethods(escapedPath string) string {
	parts := strings.Split(strings.TrimPrefix(escapedPath, "/"), "/")
	var methods []string
	for _, route := range f.routes {
		if templateMatches(route.Template, parts) {
			methods = append(methods, route.HTTPMethod)
		}
	}
	slices.Sort(methods)
	return strings.Join(slices.Compact(methods), ", ")
}

// templateMatches reports whether the path segments fit a template such as
// "/v1/sessions/{id}", whose placeholders take one non-empty segment.
func templateMatches(template string, parts []string) bool {
	segments := strings.Split(strings.TrimPrefix(template, "/"), "/")
	if len(segments) != len(parts) {
		return false
	}
	for i, segment := range segments {
		if strings.HasPrefix(segment, "{") {
			value, err := url.PathUnescape(parts[i])
			if err != nil || value == "" {
				return false
			}
			continue
		}
		if segment != parts[i] {
			return false
		}
	}
	return true
}

// writeRequestError writes e, an error that the REST face found in the
// request before any call, such as malformed JSON or a query parameter
// that does not parse. The upstream checks the key before it reads the
// request, so the key's error replaces e when the key check finds one.
func (f *restFace) writeRequestError(
	ctx context.Context,
	w http.ResponseWriter,
	r *http.Request,
	e *restError,
) {
	if keyErr := f.keyError(r); keyErr != nil {
		e = keyErr
	}
	f.writeLocalError(ctx, w, r, e)
}

// keyError returns the error of the request's key, or nil for a good key,
// for a path outside /v1, where the upstream checks no key, and when the
// check itself failed.
func (f *restFace) keyError(r *http.Request) *restError {
	if !isAPIPath(r.URL.Path) {
		return nil
	}
	err := f.keyCheck.check(r.Context(), r.Header)
	if err == nil {
		return nil
	}
	var cerr *connect.Error
	if !keyRejected(err) || !errors.As(err, &cerr) {
		f.logger.DebugContext(r.Context(), "REST key check failed; returning the request's own error",
			"error", err)
		return nil
	}
	return callError(cerr)
}

// restKeyCheck verifies the key of a request as the Connect path does: the
// credential interceptor's rules for a missing or malformed key, then the
// validation interceptor's [keyVerifier], whose memory of valid keys both
// paths share.
type restKeyCheck struct {
	credential *credentialInterceptor
	keys       *keyVerifier
}

// check returns the error of the key that header carries: the
// credential's own 401, or the upstream's error for the key.
func (k restKeyCheck) check(ctx context.Context, header http.Header) error {
	key, err := k.credential.keyFor(header)
	if err != nil {
		return err
	}
	return k.keys.check(upstream.WithAPIKey(ctx, key))
}

// writeLocalError logs and writes an error that the REST face raised
// itself, without a call: server errors are logged as errors, rejected
// requests at debug level. Errors of calls are logged by the Connect side.
func (f *restFace) writeLocalError(
	ctx context.Context,
	w http.ResponseWriter,
	r *http.Request,
	e *restError,
) {
	if e.status >= 500 {
		f.logger.ErrorContext(ctx, "REST request failed", "method", r.Method, "path", r.URL.Path,
			"status", e.status, "code", e.code, "error", e.cause)
	} else {
		f.logger.DebugContext(ctx, "REST request rejected", "method", r.Method, "path", r.URL.Path,
			"status", e.status, "code", e.code)
	}
	writeError(w, e)
}

// writeError writes e in the upstream's error shape.
func writeError(w http.ResponseWriter, e *restError) {
	maps.Copy(w.Header(), e.header)

	var body restErrorBody
	body.Error.Message, body.Error.Code = e.message, e.code
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body) // two strings always encode
	writeBody(w, e.status, buf.Bytes())
}

// writeBody writes a JSON body with its status. It drops the trailer
// announcement that grpc-gateway may have made before the failure.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Del("Trailer")
	h.Del("Transfer-Encoding")
	h.Set("Content-Type", restContentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
