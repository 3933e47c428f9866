package server

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"connectrpc.com/connect"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
)

// Keys of the access log line.
const (
	logKeyProcedure      = "procedure"
	logKeyProtocol       = "protocol"
	logKeyCode           = "code"
	logKeyDuration       = "duration_ms"
	logKeyCache          = "cache"
	logKeyUpstreamStatus = "upstream_status"
	logKeyAttempts       = "upstream_attempts"
	logKeyReason         = "error_reason"
)

// accessLogInterceptor writes one JSON line per call with the procedure,
// the protocol, the RPC code and the duration. It adds the cache status
// (the X-Cache response header) of cacheable calls, the upstream's HTTP
// status and attempts when the upstream sent a response, and the ErrorInfo
// reason of a failed call. Error messages, headers and request fields are
// never logged, because they can carry keys, phone numbers, emails and
// URLs. Records go through the context, so the logger's handler adds
// trace_id and span_id when a tracing interceptor runs outside this one.
type accessLogInterceptor struct {
	logger *slog.Logger
}

var _ connect.Interceptor = (*accessLogInterceptor)(nil)

// NewAccessLogInterceptor returns the access log interceptor. Put it in
// [Config.Interceptors] after the tracing interceptor, so its lines carry
// the call's trace and span ids.
func NewAccessLogInterceptor(logger *slog.Logger) connect.Interceptor {
	return &accessLogInterceptor{logger: logger}
}

func (a *accessLogInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient {
			return next(ctx, req)
		}
		start := time.Now()
		record := &upstreamRecord{}
		res, err := next(context.WithValue(ctx, upstreamRecordKey{}, record), req)
		a.log(ctx, req, res, err, record, time.Since(start))
		return res, err
	}
}

func (a *accessLogInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (a *accessLogInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// log writes the access line of one call.
func (a *accessLogInterceptor) log(
	ctx context.Context,
	req connect.AnyRequest,
	res connect.AnyResponse,
	err error,
	record *upstreamRecord,
	elapsed time.Duration,
) {
	code := "ok"
	if err != nil {
		code = connect.CodeOf(err).String()
	}
	attrs := []slog.Attr{
		slog.String(logKeyProcedure, req.Spec().Procedure),
		slog.String(logKeyProtocol, req.Peer().Protocol),
		slog.String(logKeyCode, code),
		slog.Float64(logKeyDuration, float64(elapsed.Microseconds())/1000),
	}
	if res != nil {
		if status := res.Header().Get(HeaderCache); status != "" {
			attrs = append(attrs, slog.String(logKeyCache, status))
		}
	}
	status, attempts := record.get()
	if status != 0 {
		attrs = append(attrs, slog.Int(logKeyUpstreamStatus, status))
	}
	if attempts != 0 {
		attrs = append(attrs, slog.Int(logKeyAttempts, attempts))
	}
	if info, ok := upstream.ErrorInfoOf(err); ok {
		// The reason can be the upstream's error code, read from its body.
		reason := info.GetReason()
		if !isPlainReason(reason) {
			reason = otherReason
		}
		attrs = append(attrs, slog.String(logKeyReason, reason))
	}
	a.logger.LogAttrs(ctx, levelOf(err), "rpc call", attrs...)
}

// levelOf logs calls that failed on the gateway's or the upstream's side
// as warnings, and successes and the caller's mistakes as info.
func levelOf(err error) slog.Level {
	switch connect.CodeOf(err) {
	case connect.CodeInternal, connect.CodeUnknown, connect.CodeDataLoss, connect.CodeUnavailable,
		connect.CodeDeadlineExceeded, connect.CodeUnimplemented:
		if err != nil {
			return slog.LevelWarn
		}
	}
	return slog.LevelInfo
}

// upstreamRecord contains the upstream's response status and attempts for
// one call. The handler fills it through noteUpstream.
type upstreamRecord struct {
	mu       sync.Mutex
	status   int
	attempts int
}

type upstreamRecordKey struct{}

func (r *upstreamRecord) get() (status, attempts int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status, r.attempts
}

// gatewayReasons are the ErrorInfo reasons of errors the gateway raises
// itself, whose http_status is not the upstream's.
var gatewayReasons = map[string]bool{
	upstream.ReasonUnavailable:     true,
	upstream.ReasonTimeout:         true,
	upstream.ReasonInvalidResponse: true,
	upstream.ReasonUnauthorized:    true,
	upstream.ReasonCircuitOpen:     true,
	upstream.ReasonOverloaded:      true,
}

// noteUpstream records, for the access log, the status and attempts of a
// response the upstream sent for the call in ctx. It records nothing for a
// response served from the cache or an error the gateway raised itself.
func noteUpstream(ctx context.Context, result *upstream.Result, err error) {
	record, ok := ctx.Value(upstreamRecordKey{}).(*upstreamRecord)
	if !ok {
		return
	}
	status, attempts := 0, 0
	switch {
	case err == nil && result != nil:
		if cached := result.Header.Get(HeaderCache); cached == "hit" || cached == "stale" {
			return
		}
		status, attempts = result.Status, result.Attempts
	case err != nil:
		info, found := upstream.ErrorInfoOf(err)
		if !found || gatewayReasons[info.GetReason()] {
			return
		}
		status, _ = strconv.Atoi(info.GetMetadata()[upstream.MetaHTTPStatus])
	}
	record.mu.Lock()
	record.status, record.attempts = status, attempts
	record.mu.Unlock()
}
