package upstream

import (
	"context"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/simulator/fault"
)

// fastRetries keeps backoff waits short so that retry tests run quickly.
var fastRetries = PolicyConfig{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}

// deadlineMargin is how far past its deadline a call may return before a
// test fails. It is generous so that a loaded CI machine does not fail
// tests; what matters is that the call does not wait for the upstream.
const deadlineMargin = 3 * time.Second

func TestPolicyDeadline(t *testing.T) {
	t.Parallel()
	const limit = 200 * time.Millisecond
	tests := []struct {
		name          string
		callerTimeout time.Duration // 0: the caller sets no deadline
		cfg           PolicyConfig
	}{
		{name: "caller deadline", callerTimeout: limit, cfg: PolicyConfig{DefaultTimeout: time.Minute}},
		{name: "default timeout", cfg: PolicyConfig{DefaultTimeout: limit}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newPolicyEnv(t, policyEnvConfig{policy: tc.cfg})
			id := env.createSession(t)
			env.addFault(t, fault.Rule{Method: http.MethodGet, Path: "/v1/sessions/*", Hang: true})

			ctx := env.ctx
			if tc.callerTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.callerTimeout)
				defer cancel()
			}
			start := time.Now()
			_, err := env.getSession(ctx, id)
			elapsed := time.Since(start)

			wantError(t, err, connect.CodeDeadlineExceeded, ReasonTimeout)
			info, _ := ErrorInfoOf(err)
			if got := info.GetMetadata()[MetaHTTPStatus]; got != "504" {
				t.Errorf("http_status = %q, want 504", got)
			}
			if elapsed > limit+deadlineMargin {
				t.Errorf("call took %v, want about %v", elapsed, limit)
			}
			if got := env.calls(routeGetSession); got != 1 {
				t.Errorf("upstream calls = %d, want 1", got)
			}
		})
	}
}

// policyOp is one RPC that the retry table sends.
type policyOp struct {
	route string
	path  string // fault rule path that matches the operation's requests
	call  func(env *policyEnv, id string) (*Result, error)
}

var (
	opGet = policyOp{
		route: routeGetSession, path: "/v1/sessions/*",
		call: func(env *policyEnv, id string) (*Result, error) { return env.getSession(env.ctx, id) },
	}
	opCreate = policyOp{
		route: routeCreateSession, path: "/v1/sessions",
		call: func(env *policyEnv, _ string) (*Result, error) {
			return env.client.Call(env.ctx, methodCreateSession, env.createRequest("retried"),
				new(groundcamv1.CreateSessionResponse))
		},
	}
	opCancel = policyOp{
		route: routeCancelSession, path: "/v1/sessions/*",
		call: func(env *policyEnv, id string) (*Result, error) {
			return env.client.Call(env.ctx, methodCancelSession, &groundcamv1.CancelSessionRequest{Id: id},
				new(groundcamv1.CancelSessionResponse))
		},
	}
	opEnd = policyOp{
		route: routeEndSession, path: "/v1/sessions/*",
		call: func(env *policyEnv, id string) (*Result, error) {
			return env.client.Call(env.ctx, methodEndSession, &groundcamv1.EndSessionRequest{Id: id},
				new(groundcamv1.EndSessionResponse))
		},
	}
	opUpdate = policyOp{
		route: routeUpdateSession, path: "/v1/sessions/*",
		call: func(env *policyEnv, id string) (*Result, error) {
			req := &groundcamv1.UpdateSessionRequest{Id: id, SessionTags: &groundcamv1.StringList{Values: []string{"a"}}}
			return env.client.Call(env.ctx, methodUpdateSession, req, new(groundcamv1.UpdateSessionResponse))
		},
	}
)

func TestPolicyRetries(t *testing.T) {
	t.Parallel()
	unavailable := fault.Rule{Status: http.StatusServiceUnavailable,
		Body: `{"error": {"message": "Service unavailable", "code": "UNAVAILABLE"}}`}
	reset := fault.Rule{Reset: true}
	truncated := fault.Rule{Truncate: 10}
	tests := []struct {
		name      string
		op        policyOp
		method    string
		rule      fault.Rule
		times     int // 0: every request
		wantCode  connect.Code
		wantCalls int
	}{
		{"read 503 then ok", opGet, http.MethodGet, unavailable, 2, 0, 3},
		{"read reset then ok", opGet, http.MethodGet, reset, 1, 0, 2},
		{"read truncated then ok", opGet, http.MethodGet, truncated, 1, 0, 2},
		{"read 503 until attempts run out", opGet, http.MethodGet, unavailable, 0, connect.CodeUnavailable, 3},
		{"create 503 then ok", opCreate, http.MethodPost, unavailable, 1, 0, 2},
		{"create reset then ok", opCreate, http.MethodPost, reset, 1, 0, 2},
		{"create truncated then ok", opCreate, http.MethodPost, truncated, 1, 0, 2},
		{"cancel 503 not retried", opCancel, http.MethodPost, unavailable, 1, connect.CodeUnavailable, 1},
		{"cancel reset not retried", opCancel, http.MethodPost, reset, 1, connect.CodeUnavailable, 1},
		{"end truncated not retried", opEnd, http.MethodPost, truncated, 1, connect.CodeUnavailable, 1},
		{"patch 503 not retried", opUpdate, http.MethodPatch, unavailable, 1, connect.CodeUnavailable, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newPolicyEnv(t, policyEnvConfig{policy: fastRetries})
			id := env.createSession(t)
			before := env.calls(tc.op.route)
			rule := tc.rule
			rule.Method, rule.Path, rule.Times = tc.method, tc.op.path, tc.times
			env.addFault(t, rule)

			result, err := tc.op.call(env, id)

			if tc.wantCode == 0 && err != nil {
				t.Fatalf("call failed: %v", err)
			}
			if tc.wantCode != 0 {
				wantError(t, err, tc.wantCode, "")
			}
			if got := env.calls(tc.op.route) - before; got != tc.wantCalls {
				t.Errorf("upstream calls = %d, want %d", got, tc.wantCalls)
			}
			if err == nil && result.Attempts != tc.wantCalls {
				t.Errorf("Result.Attempts = %d, want %d", result.Attempts, tc.wantCalls)
			}
		})
	}
}

func TestPolicyRetriedCreateKeepsKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		callerKey string // "" lets the client generate one
	}{
		{name: "generated key"},
		{name: "caller key", callerKey: "order-4711"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newPolicyEnv(t, policyEnvConfig{policy: fastRetries})
			// The upstream creates the session, then the body is cut: only
			// the idempotency key keeps the retry from creating another.
			env.addFault(t, fault.Rule{Method: http.MethodPost, Path: "/v1/sessions", Truncate: 20, Times: 1})
			req := env.createRequest("keep-key")
			if tc.callerKey != "" {
				req.IdempotencyKey = new(tc.callerKey)
			}

			res := new(groundcamv1.CreateSessionResponse)
			if _, err := env.client.Call(env.ctx, methodCreateSession, req, res); err != nil {
				t.Fatalf("create: %v", err)
			}

			sent := env.sim.Requests(routeCreateSession)
			if len(sent) != 2 {
				t.Fatalf("upstream creates = %d, want 2", len(sent))
			}
			first, second := sent[0].Header.Get("Idempotency-Key"), sent[1].Header.Get("Idempotency-Key")
			if first == "" || first != second {
				t.Errorf("Idempotency-Key = %q then %q, want one non-empty key", first, second)
			}
			if tc.callerKey != "" && first != tc.callerKey {
				t.Errorf("Idempotency-Key = %q, want the caller's %q", first, tc.callerKey)
			}
			if got := env.sessionsWithCRM(t, "keep-key"); got != 1 {
				t.Errorf("sessions created = %d, want 1", got)
			}
		})
	}
}

func TestPolicyRetriesWriteNeverSent(t *testing.T) {
	t.Parallel()
	env := newPolicyEnv(t, policyEnvConfig{policy: fastRetries, baseURL: refusedURL(t)})

	_, err := opCancel.call(env, "abc")

	wantError(t, err, connect.CodeUnavailable, ReasonUnavailable)
	if got := len(env.logLines(t, "retrying upstream call")); got != 2 {
		t.Errorf("retries = %d, want 2: a refused connection proves the cancel was never sent", got)
	}
}

func TestPolicyRetrySkippedPastDeadline(t *testing.T) {
	t.Parallel()
	env := newPolicyEnv(t, policyEnvConfig{policy: fastRetries})
	id := env.createSession(t)
	// Each attempt takes 500 ms, so after the first at most 300 ms of the
	// deadline remain: too little for a second attempt.
	env.addFault(t, fault.Rule{Method: http.MethodGet, Path: "/v1/sessions/*",
		Latency: 500 * time.Millisecond, Status: http.StatusServiceUnavailable})
	ctx, cancel := context.WithTimeout(env.ctx, 800*time.Millisecond)
	defer cancel()

	_, err := env.getSession(ctx, id)

	wantError(t, err, connect.CodeUnavailable, "HTTP_503")
	if got := env.calls(routeGetSession); got != 1 {
		t.Errorf("upstream calls = %d, want 1", got)
	}
}

func TestPolicyRetryBudget(t *testing.T) {
	t.Parallel()
	cfg := fastRetries
	cfg.RetryBudget = 0.01
	cfg.BreakerFailures = 1000
	env := newPolicyEnv(t, policyEnvConfig{policy: cfg})
	id := env.createSession(t)
	env.addFault(t, fault.Rule{Method: http.MethodGet, Path: "/v1/sessions/*", Status: http.StatusInternalServerError})

	const calls = 12
	for range calls {
		_, err := env.getSession(env.ctx, id)
		wantError(t, err, connect.CodeUnavailable, "")
	}

	// The bucket starts with 10 tokens and 12 calls add 0.12: 10 retries.
	if got, want := env.calls(routeGetSession), calls+10; got != want {
		t.Errorf("upstream calls = %d, want %d", got, want)
	}
}

func TestPolicyRetryTelemetry(t *testing.T) {
	t.Parallel()
	env := newPolicyEnv(t, policyEnvConfig{policy: fastRetries})
	id := env.createSession(t)
	env.addFault(t, fault.Rule{Method: http.MethodGet, Path: "/v1/sessions/*",
		Status: http.StatusBadGateway, Times: 2})

	if _, err := env.getSession(env.ctx, id); err != nil {
		t.Fatalf("get session: %v", err)
	}

	sum, ok := env.metric(t, "groundcam.upstream.retries").(metricdata.Sum[int64])
	if !ok {
		t.Fatal("groundcam.upstream.retries was not recorded as an int64 sum")
	}
	want := attribute.NewSet(attribute.String("http.route", "/v1/sessions/{id}"), attribute.String("reason", "server_error"))
	var counted int64
	for _, dp := range sum.DataPoints {
		if dp.Attributes.Equals(&want) {
			counted = dp.Value
		}
	}
	if counted != 2 {
		t.Errorf("retries{route, server_error} = %d, want 2 (points: %+v)", counted, sum.DataPoints)
	}

	lines := env.logLines(t, "retrying upstream call")
	if len(lines) != 2 {
		t.Fatalf("retry log lines = %d, want 2", len(lines))
	}
	for i, line := range lines {
		if line["route"] != "GET /v1/sessions/{id}" || line["reason"] != "server_error" {
			t.Errorf("retry line %d = %v, want route and reason", i, line)
		}
		if line["attempt"] != float64(i+2) {
			t.Errorf("retry line %d attempt = %v, want %d", i, line["attempt"], i+2)
		}
	}
}
