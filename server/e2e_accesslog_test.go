package server_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/protobuf/proto"

	"github.com/groundcam/groundcam-gateway/adapters/cache"
	"github.com/groundcam/groundcam-gateway/adapters/telemetry"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/internal/testutil"
	"github.com/groundcam/groundcam-gateway/server"
)

func TestAccessLog(t *testing.T) {
	t.Parallel()
	buf := &testutil.LockedBuffer{}
	logger := telemetry.NewLogger(buf, slog.LevelInfo)
	spans := tracetest.NewSpanRecorder()
	tracing, err := otelconnect.NewInterceptor(
		otelconnect.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))),
		otelconnect.WithoutMetrics(),
	)
	if err != nil {
		t.Fatalf("otelconnect.NewInterceptor: %v", err)
	}
	memory, err := cache.NewMemoryStore(1 << 20)
	if err != nil {
		t.Fatalf("NewMemoryStore: %v", err)
	}
	responses, err := server.NewCache(memory, cache.WithLogger(discardLogger()))
	if err != nil {
		t.Fatalf("NewCache: %v", err)
	}
	t.Cleanup(func() { _ = responses.Close() })
	h := newHarness(t, harnessOptions{
		logger:       logger,
		interceptors: []connect.Interceptor{tracing, server.NewAccessLogInterceptor(logger)},
		cache:        responses,
	})

	// A miss, then a hit served from the cache.
	for range 2 {
		if _, err := h.credits.GetCredits(context.Background(), connect.NewRequest(&groundcamv1.GetCreditsRequest{})); err != nil {
			t.Fatalf("GetCredits: %v", err)
		}
	}
	// A write with personal data, rejected by the upstream.
	_, err = h.sessions.CreateSession(context.Background(), connect.NewRequest(&groundcamv1.CreateSessionRequest{
		ClientPhone: proto.String("+33699887766"), ClientEmail: proto.String("jeanne@email.example"),
		TicketUrl: proto.String("https://crm.example/tickets/secret-77"), AgentId: "nobody",
	}))
	wantError(t, err, connect.CodePermissionDenied, "AGENT_NOT_MEMBER", 403)
	// A request rejected by the gateway itself.
	_, err = h.sessions.CreateSession(context.Background(), withKey(&groundcamv1.CreateSessionRequest{
		ClientPhone: proto.String("0699887766"), AgentId: "a",
	}, h.key(keyBistro)))
	wantError(t, err, connect.CodeInvalidArgument, "INVALID_PHONE", 400)

	lines := testutil.LogRecords(t, buf.String(), "rpc call")
	if len(lines) != 4 {
		t.Fatalf("access lines = %d, want 4:\n%s", len(lines), buf)
	}
	wants := []map[string]any{
		{"procedure": "/groundcam.v1.CreditService/GetCredits", "code": "ok", "cache": "miss", "upstream_status": 200.0},
		{"procedure": "/groundcam.v1.CreditService/GetCredits", "code": "ok", "cache": "hit"},
		{"procedure": "/groundcam.v1.SessionService/CreateSession", "code": "permission_denied",
			"upstream_status": 403.0, "error_reason": "AGENT_NOT_MEMBER"},
		{"procedure": "/groundcam.v1.SessionService/CreateSession", "code": "invalid_argument",
			"error_reason": "INVALID_PHONE"},
	}
	for i, want := range wants {
		line := lines[i]
		for key, value := range want {
			if line[key] != value {
				t.Errorf("line %d %s = %v, want %v", i, key, line[key], value)
			}
		}
		if _, ok := line["duration_ms"].(float64); !ok {
			t.Errorf("line %d has no numeric duration_ms: %v", i, line)
		}
		if line["protocol"] != "connect" {
			t.Errorf("line %d protocol = %v, want connect", i, line["protocol"])
		}
		if id, _ := line[telemetry.LogKeyTraceID].(string); len(id) != 32 {
			t.Errorf("line %d trace_id = %v, want the call's trace id", i, line[telemetry.LogKeyTraceID])
		}
	}
	if _, ok := lines[1]["upstream_status"]; ok {
		t.Error("a cache hit logged an upstream status")
	}
	if _, ok := lines[3]["upstream_status"]; ok {
		t.Error("a request rejected by the gateway logged an upstream status")
	}
	if lines[0][telemetry.LogKeyTraceID] == lines[1][telemetry.LogKeyTraceID] {
		t.Error("two calls share a trace id")
	}

	logged := buf.String()
	for _, secret := range []string{
		h.key(keyAcme), h.key(keyBistro), "+33699887766", "0699887766", "jeanne@email.example",
		"crm.example", "Authorization", "Bearer",
	} {
		if strings.Contains(logged, secret) {
			t.Errorf("the log contains %q", secret)
		}
	}
}
