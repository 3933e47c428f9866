package telemetry

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestRecordCacheValues(t *testing.T) {
	t.Parallel()
	rec := newRecorders(t)
	tracer := rec.tracerProvider.Tracer("test")

	tests := []struct {
		status string
		want   string
	}{
		{CacheHit, "hit"},
		{CacheMiss, "miss"},
		{CacheStale, "stale"},
		{CacheBypass, "bypass"},
		{"HIT", "_OTHER"},
		{"session ses_123", "_OTHER"},
	}
	for _, tt := range tests {
		ctx, span := tracer.Start(context.Background(), "cache "+tt.want+" "+tt.status)
		RecordCache(ctx, tt.status)
		span.End()
		wantAttr(t, rec.endedSpan(t, "cache "+tt.want+" "+tt.status).Attributes(), AttrCache, tt.want)
	}
}

func TestSetUpstreamErrorWithoutRoute(t *testing.T) {
	t.Parallel()
	rec := newRecorders(t)

	ctx, span := rec.tracerProvider.Tracer("test").Start(context.Background(), "handler")
	SetUpstreamError(ctx, "SMS_FAILED")
	span.End()

	wantAttr(t, rec.endedSpan(t, "handler").Attributes(), AttrUpstreamErrorCode, "SMS_FAILED")
}

func TestSetUpstreamErrorNoSpan(t *testing.T) {
	t.Parallel()
	// Neither call may panic without a span or a client span in the context.
	SetUpstreamError(context.Background(), "NOT_FOUND")
	SetUpstreamError(WithRoute(context.Background(), "GET", "/v1/agents"), "NOT_FOUND")
	RecordCache(context.Background(), CacheHit)
}

func TestSanitizeErrorCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code string
		want string
	}{
		{"INVALID_PHONE", "INVALID_PHONE"},
		{"rate.limited-1", "rate.limited-1"},
		{"", "_OTHER"},
		{"INVALID PHONE", "_OTHER"},
		{"+33612345678", "_OTHER"},
		{"ÉCHEC", "_OTHER"},
		{strings.Repeat("A", maxErrorCodeLength), strings.Repeat("A", maxErrorCodeLength)},
		{strings.Repeat("A", maxErrorCodeLength+1), "_OTHER"},
	}
	for _, tt := range tests {
		if got := sanitizeErrorCode(tt.code); got != tt.want {
			t.Errorf("sanitizeErrorCode(%q) = %q, want %q", tt.code, got, tt.want)
		}
	}
}

func TestIsSafeHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want bool
	}{
		{"Content-Type", true},
		{"content-length", true},
		{"User-Agent", true},
		{"Retry-After", true},
		{"X-RateLimit-Remaining", true},
		{"x-ratelimit-reset", true},
		{"Authorization", false},
		{"Proxy-Authorization", false},
		{"Cookie", false},
		{"Set-Cookie", false},
		{"Idempotency-Key", false},
		{"X-Idempotency-Key", false},
		{"Traceparent", false},
		{"X-RateLimit", false},
		{"Content-Type-Extra", false},
	}
	for _, tt := range tests {
		if got := IsSafeHeader(tt.name); got != tt.want {
			t.Errorf("IsSafeHeader(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSafeHeaderNamesIsCopy(t *testing.T) {
	t.Parallel()
	names := SafeHeaderNames()
	if !slices.Contains(names, "content-type") {
		t.Errorf("SafeHeaderNames() = %q, want content-type in it", names)
	}
	names[0] = "authorization"
	if IsSafeHeader("Authorization") {
		t.Error("changing the returned slice changed the allow-list")
	}
}
