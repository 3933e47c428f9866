package telemetry

import (
	"context"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Attribute keys that the gateway defines beyond the OpenTelemetry semantic
// conventions.
const (
	// AttrCache is the cache outcome of an operation: one of the Cache*
	// values, or "_OTHER".
	AttrCache = attribute.Key("groundcam.cache")
	// AttrUpstreamErrorCode is the code of an upstream error envelope, such
	// as INVALID_PHONE, or "_OTHER" when the code is not a plain identifier.
	AttrUpstreamErrorCode = attribute.Key("groundcam.upstream.error_code")
)

// The values that [RecordCache] records.
const (
	CacheHit    = "hit"
	CacheMiss   = "miss"
	CacheStale  = "stale"
	CacheBypass = "bypass"
)

// otherValue replaces a value outside an attribute's allow-list, as the
// OpenTelemetry semantic conventions do for unknown HTTP methods.
const otherValue = "_OTHER"

// maxErrorCodeLength is the maximum length of a recorded upstream error code.
// The longest codes in the GroundCam contract have 20 characters.
const maxErrorCodeLength = 64

type routeKey struct{}

type attemptKey struct{}

type clientSpanKey struct{}

// route is the operation that a request belongs to.
type route struct {
	method   string
	template string
}

// clientSpanSlot holds the client span of the latest request made with a
// context from [WithRoute], so that [SetUpstreamError] can reach a span that
// the transport started below the caller.
type clientSpanSlot struct {
	mu   sync.Mutex
	span trace.Span
}

func (s *clientSpanSlot) set(span trace.Span) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.span = span
}

func (s *clientSpanSlot) get() trace.Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.span
}

// WithRoute returns a context whose upstream requests are named after the
// operation: method and a path template with placeholders, such as "GET" and
// "/v1/sessions/{id}". The template becomes the client span name and the
// http.route attribute, so it must never contain a concrete id. Anything
// from a '?' or '#' on is dropped.
func WithRoute(ctx context.Context, method, template string) context.Context {
	if i := strings.IndexAny(template, "?#"); i >= 0 {
		template = template[:i]
	}
	ctx = context.WithValue(ctx, routeKey{}, route{method: method, template: template})
	return context.WithValue(ctx, clientSpanKey{}, &clientSpanSlot{})
}

// WithAttempt returns a context that marks its upstream request as attempt n
// of one operation, counting from 1. The transport records attempt n > 1 as
// http.request.resend_count = n-1, and records nothing for the first attempt
// or for n < 1.
func WithAttempt(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, attemptKey{}, n)
}

// SetUpstreamError puts the upstream error code, such as "INVALID_PHONE", on
// the client span of the latest request made with ctx through the transport
// from [NewTransport]. That span is found when ctx descends from a
// [WithRoute] context or is the context of the response's request. Otherwise
// the code goes on the span in ctx. The client span ends when the response
// body is closed, so call this before closing it. A code that is not a plain identifier of letters,
// digits, '_', '.' or '-' (at most 64 bytes) is recorded as "_OTHER", so a
// malformed upstream body cannot put arbitrary text into a span.
func SetUpstreamError(ctx context.Context, code string) {
	span := trace.SpanFromContext(ctx)
	if slot, ok := ctx.Value(clientSpanKey{}).(*clientSpanSlot); ok {
		if s := slot.get(); s != nil {
			span = s
		}
	}
	span.SetAttributes(AttrUpstreamErrorCode.String(sanitizeErrorCode(code)))
}

// RecordCache puts the cache outcome of the current operation (one of
// [CacheHit], [CacheMiss], [CacheStale] or [CacheBypass]) on the span in ctx
// as groundcam.cache. Any other status is recorded as "_OTHER".
func RecordCache(ctx context.Context, status string) {
	switch status {
	case CacheHit, CacheMiss, CacheStale, CacheBypass:
	default:
		status = otherValue
	}
	// Most spans of a sampled-down trace record nothing; skipping them saves
	// the attribute slice that SetAttributes would allocate.
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(AttrCache.String(status))
}

func routeFromContext(ctx context.Context) (route, bool) {
	r, ok := ctx.Value(routeKey{}).(route)
	return r, ok && r.template != ""
}

func attemptFromContext(ctx context.Context) int {
	n, _ := ctx.Value(attemptKey{}).(int)
	return n
}

func clientSpanSlotFromContext(ctx context.Context) *clientSpanSlot {
	slot, _ := ctx.Value(clientSpanKey{}).(*clientSpanSlot)
	return slot
}

func sanitizeErrorCode(code string) string {
	if code == "" || len(code) > maxErrorCodeLength {
		return otherValue
	}
	for _, c := range code {
		isLetter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		isDigit := c >= '0' && c <= '9'
		if !isLetter && !isDigit && c != '_' && c != '.' && c != '-' {
			return otherValue
		}
	}
	return code
}
