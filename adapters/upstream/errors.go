package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/groundcam/groundcam-gateway/adapters/jsonmap"
)

// ErrorDomain is the ErrorInfo domain of every error the gateway returns.
const ErrorDomain = "groundcam.io"

// Keys of the ErrorInfo metadata.
const (
	// MetaHTTPStatus is the upstream's HTTP status, or the status the REST
	// face responds with for errors raised by the gateway itself.
	MetaHTTPStatus = "http_status"
)

// Reasons of errors raised by the gateway rather than the upstream.
const (
	ReasonUnavailable     = "UPSTREAM_UNAVAILABLE"
	ReasonTimeout         = "UPSTREAM_TIMEOUT"
	ReasonInvalidResponse = "UPSTREAM_INVALID_RESPONSE"
	// ReasonUnauthorized is the upstream's own code for a missing or
	// malformed Authorization header, reused so callers see one code.
	ReasonUnauthorized = "UNAUTHORIZED"
)

// CodeFor maps an upstream HTTP status and error code to the Connect code
// the gateway returns. It is the gateway's one error table:
//
//	400 invalid_argument         403 permission_denied
//	401 unauthenticated          404 not_found
//	402 failed_precondition      429 resource_exhausted (with RetryInfo)
//	409 IDEMPOTENCY_CONFLICT     aborted: repeat the call later
//	409 INVALID_STATUS           failed_precondition
//	409 DUPLICATE_URL            already_exists
//	409 SLOT_CONFLICT            already_exists
//	409 LIMIT_REACHED            resource_exhausted
//	409 other codes              aborted
//	5xx                          unavailable
//	other 4xx                    invalid_argument
func CodeFor(status int, code string) connect.Code {
	switch status {
	case http.StatusBadRequest:
		return connect.CodeInvalidArgument
	case http.StatusUnauthorized:
		return connect.CodeUnauthenticated
	case http.StatusPaymentRequired:
		return connect.CodeFailedPrecondition
	case http.StatusForbidden:
		return connect.CodePermissionDenied
	case http.StatusNotFound:
		return connect.CodeNotFound
	case http.StatusConflict:
		return conflictCode(code)
	case http.StatusTooManyRequests:
		return connect.CodeResourceExhausted
	}
	if status >= 500 {
		return connect.CodeUnavailable
	}
	return connect.CodeInvalidArgument
}

func conflictCode(code string) connect.Code {
	switch code {
	case "INVALID_STATUS":
		return connect.CodeFailedPrecondition
	case "DUPLICATE_URL", "SLOT_CONFLICT":
		return connect.CodeAlreadyExists
	case "LIMIT_REACHED":
		return connect.CodeResourceExhausted
	default:
		return connect.CodeAborted
	}
}

// NewError returns a Connect error with an ErrorInfo detail carrying the
// upstream-style code and HTTP status, so the REST face can rebuild the
// upstream's error body from it.
func NewError(code connect.Code, httpStatus int, reason, message string) *connect.Error {
	err := connect.NewError(code, errors.New(message))
	info := &errdetails.ErrorInfo{
		Reason:   reason,
		Domain:   ErrorDomain,
		Metadata: map[string]string{MetaHTTPStatus: strconv.Itoa(httpStatus)},
	}
	if detail, detailErr := connect.NewErrorDetail(info); detailErr == nil {
		err.AddDetail(detail)
	}
	return err
}

// ErrorInfoOf returns the ErrorInfo detail of err, if it has one.
func ErrorInfoOf(err error) (*errdetails.ErrorInfo, bool) {
	var cerr *connect.Error
	if !errors.As(err, &cerr) {
		return nil, false
	}
	for _, d := range cerr.Details() {
		msg, valueErr := d.Value()
		if valueErr != nil {
			continue
		}
		if info, ok := msg.(*errdetails.ErrorInfo); ok && info.GetDomain() == ErrorDomain {
			return info, true
		}
	}
	return nil, false
}

func errMissingKey() *connect.Error {
	return NewError(connect.CodeUnauthenticated, http.StatusUnauthorized, ReasonUnauthorized,
		"missing API key: send an Authorization: Bearer <key> header or configure the gateway's default key")
}

// upstreamError turns a non-2xx upstream response into a Connect error.
func (c *Client) upstreamError(route *Route, resp *response) *connect.Error {
	var body struct {
		Error struct {
			Message string `json:"message"`
			Code    string `json:"code"`
		} `json:"error"`
	}
	message, code := "", ""
	if json.Unmarshal(resp.body, &body) == nil {
		message, code = body.Error.Message, body.Error.Code
	}
	if code == "" {
		code = "HTTP_" + strconv.Itoa(resp.status)
	}
	if message == "" {
		message = fmt.Sprintf("upstream %s returned HTTP %d with no error body", route.Name(), resp.status)
	}

	err := NewError(CodeFor(resp.status, code), resp.status, code, message)
	if delay, ok := retryAfter(resp.header, time.Now()); ok && resp.status == http.StatusTooManyRequests {
		if detail, detailErr := connect.NewErrorDetail(&errdetails.RetryInfo{RetryDelay: durationpb.New(delay)}); detailErr == nil {
			err.AddDetail(detail)
		}
	}
	c.attachResults(route, resp, err)
	for name, values := range forwardable(resp.header) {
		err.Meta()[name] = values
	}
	return err
}

// attachResults keeps the per-item results of an error body shaped like a
// success, such as the bulk create's all-failed 400, as an error detail of
// the RPC's response type.
func (c *Client) attachResults(route *Route, resp *response, err *connect.Error) {
	var envelope struct {
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(resp.body, &envelope) != nil || len(envelope.Data) == 0 {
		return
	}
	res := route.newResponse()
	target := res
	if route.ResponseBody != nil {
		target = res.ProtoReflect().Mutable(route.ResponseBody).Message().Interface()
	}
	if jsonmap.Unmarshal(envelope.Data, target) != nil {
		return
	}
	if detail, detailErr := connect.NewErrorDetail(res); detailErr == nil {
		err.AddDetail(detail)
	}
}

// ResultsOf returns the response-shaped detail of an error that carries
// per-item results, such as a bulk create whose items all failed.
func ResultsOf(err error, res proto.Message) bool {
	var cerr *connect.Error
	if !errors.As(err, &cerr) {
		return false
	}
	want := res.ProtoReflect().Descriptor().FullName()
	for _, d := range cerr.Details() {
		msg, valueErr := d.Value()
		if valueErr != nil || msg.ProtoReflect().Descriptor().FullName() != want {
			continue
		}
		proto.Merge(res, msg)
		return true
	}
	return false
}

// transportError maps a failed attempt (no usable HTTP response) to a
// Connect error.
func transportError(ctx context.Context, route *Route, err error) *connect.Error {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return NewError(connect.CodeDeadlineExceeded, http.StatusGatewayTimeout, ReasonTimeout,
			fmt.Sprintf("upstream %s did not answer before the deadline", route.Name()))
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return connect.NewError(connect.CodeCanceled, fmt.Errorf("upstream %s: call canceled", route.Name()))
	}
	var be *bodyError
	if errors.As(err, &be) {
		return NewError(connect.CodeUnavailable, http.StatusBadGateway, ReasonInvalidResponse,
			fmt.Sprintf("upstream %s returned HTTP %d but reading its body failed: %v", route.Name(), be.status, be.err))
	}
	return NewError(connect.CodeUnavailable, http.StatusBadGateway, ReasonUnavailable,
		fmt.Sprintf("upstream %s is unreachable: %v", route.Name(), withoutURL(err)))
}

// withoutURL returns the cause of a failed request without the request's
// URL, which *url.Error quotes and whose query can carry phone numbers and
// emails from list filters.
func withoutURL(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

func invalidResponse(route *Route, resp *response, err error) *connect.Error {
	return NewError(connect.CodeUnavailable, http.StatusBadGateway, ReasonInvalidResponse,
		fmt.Sprintf("upstream %s returned HTTP %d with an invalid body: %v", route.Name(), resp.status, err))
}

// bodyError is a response whose body could not be read whole.
type bodyError struct {
	status int
	header http.Header
	err    error
}

func (e *bodyError) Error() string { return fmt.Sprintf("read body of HTTP %d: %v", e.status, e.err) }
func (e *bodyError) Unwrap() error { return e.err }

type errTooLarge struct{ limit int64 }

func (e errTooLarge) Error() string {
	return fmt.Sprintf("body exceeds the %d-byte limit", e.limit)
}

// retryAfter reads the wait that the upstream requests from Retry-After (seconds
// or an HTTP date) or, failing that, X-RateLimit-Reset (unix seconds) when
// X-RateLimit-Remaining is 0. The upstream sends the X-RateLimit-* headers
// on every response, so a reset time alone does not mean the window is
// spent: a 429 for a per-session quota, such as SMS_LIMIT_REACHED, carries
// one too.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
			// Capped so that the conversion cannot overflow.
			return time.Duration(min(secs, int64(math.MaxInt64/time.Second))) * time.Second, true
		}
		if at, err := http.ParseTime(v); err == nil {
			return max(at.Sub(now), 0), true
		}
	}
	if strings.TrimSpace(h.Get("X-RateLimit-Remaining")) != "0" {
		return 0, false
	}
	if v := strings.TrimSpace(h.Get("X-RateLimit-Reset")); v != "" {
		if unix, err := strconv.ParseInt(v, 10, 64); err == nil {
			return max(time.Unix(unix, 0).Sub(now), 0), true
		}
	}
	return 0, false
}
