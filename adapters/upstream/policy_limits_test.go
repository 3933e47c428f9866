package upstream

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jonboulle/clockwork"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/groundcam/groundcam-gateway/simulator/fault"
)

func TestPolicyRateLimitWait(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		op     policyOp
		method string
		header map[string]string
	}{
		{"retry-after seconds", opGet, http.MethodGet, map[string]string{"Retry-After": "2"}},
		{"retry-after date", opGet, http.MethodGet,
			map[string]string{"Retry-After": start.Add(2 * time.Second).Format(http.TimeFormat)}},
		{"rate-limit reset", opGet, http.MethodGet, map[string]string{
			"X-RateLimit-Remaining": "0",
			"X-RateLimit-Reset":     strconv.FormatInt(start.Add(2*time.Second).Unix(), 10),
		}},
		{"cancel after retry-after", opCancel, http.MethodPost, map[string]string{"Retry-After": "2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := clockwork.NewFakeClockAt(start)
			env := newPolicyEnv(t, policyEnvConfig{policy: fastRetries, clock: clock})
			id := env.createSession(t)
			env.addFault(t, fault.Rule{Method: tc.method, Path: tc.op.path, Times: 1,
				Status: http.StatusTooManyRequests, Header: tc.header,
				Body: `{"error": {"message": "Rate limit exceeded", "code": "RATE_LIMITED"}}`})

			done := make(chan error, 1)
			go func() {
				_, err := tc.op.call(env, id)
				done <- err
			}()

			// The policy now waits on the fake clock, which has not moved:
			// no retry can have been sent.
			if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
				t.Fatalf("wait for the retry timer: %v", err)
			}
			if got := env.calls(tc.op.route); got != 1 {
				t.Fatalf("upstream calls before the wait = %d, want 1", got)
			}
			lines := env.logLines(t, "retrying upstream call")
			if len(lines) != 1 {
				t.Fatalf("retry log lines = %d, want 1", len(lines))
			}
			if wait, _ := lines[0]["wait_ms"].(float64); wait < 2000 {
				t.Errorf("wait_ms = %v, want at least the 2000 ms the upstream asked for", wait)
			}
			clock.Advance(2*time.Second + fastRetries.MaxBackoff)

			if err := <-done; err != nil {
				t.Fatalf("call after the wait: %v", err)
			}
			if got := env.calls(tc.op.route); got != 2 {
				t.Errorf("upstream calls = %d, want 2", got)
			}
		})
	}
}

func TestPolicyRateLimitPastDeadline(t *testing.T) {
	t.Parallel()
	env := newPolicyEnv(t, policyEnvConfig{policy: fastRetries})
	id := env.createSession(t)
	env.addFault(t, fault.Rule{Method: http.MethodGet, Path: "/v1/sessions/*", Times: 1,
		Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "30"},
		Body: `{"error": {"message": "Rate limit exceeded", "code": "RATE_LIMITED"}}`})
	const timeout = 5 * time.Second
	ctx, cancel := context.WithTimeout(env.ctx, timeout)
	defer cancel()

	start := time.Now()
	_, err := env.getSession(ctx, id)
	elapsed := time.Since(start)

	wantError(t, err, connect.CodeResourceExhausted, "RATE_LIMITED")
	info, ok := retryInfoOf(err)
	if !ok {
		t.Fatal("error has no RetryInfo detail")
	}
	if got := info.GetRetryDelay().AsDuration(); got != 30*time.Second {
		t.Errorf("RetryInfo delay = %v, want 30s", got)
	}
	if elapsed > timeout/2 {
		t.Errorf("call took %v; a wait that cannot fit the %v deadline should fail at once", elapsed, timeout)
	}
	if got := env.calls(routeGetSession); got != 1 {
		t.Errorf("upstream calls = %d, want 1", got)
	}
}

func TestPolicyQuota429NotRetried(t *testing.T) {
	t.Parallel()
	env := newPolicyEnv(t, policyEnvConfig{policy: fastRetries})
	id := env.createSession(t)
	// A per-session quota: the rate-limit window still has room, so the
	// reset time says nothing about when the call could succeed.
	env.addFault(t, fault.Rule{Method: http.MethodGet, Path: "/v1/sessions/*", Times: 1,
		Status: http.StatusTooManyRequests,
		Header: map[string]string{"X-RateLimit-Remaining": "42", "X-RateLimit-Reset": "1900000000"},
		Body:   `{"error": {"message": "SMS limit reached for this session", "code": "SMS_LIMIT_REACHED"}}`})

	_, err := env.getSession(env.ctx, id)

	wantError(t, err, connect.CodeResourceExhausted, "SMS_LIMIT_REACHED")
	if _, ok := retryInfoOf(err); ok {
		t.Error("error has a RetryInfo detail, want none for a quota without a wait")
	}
	if got := env.calls(routeGetSession); got != 1 {
		t.Errorf("upstream calls = %d, want 1", got)
	}
}

func TestPolicyCircuitBreaker(t *testing.T) {
	t.Parallel()
	cfg := PolicyConfig{MaxAttempts: 1, BreakerFailures: 3, BreakerOpen: 50 * time.Millisecond}
	env := newPolicyEnv(t, policyEnvConfig{policy: cfg})
	id := env.createSession(t)
	env.addFault(t, fault.Rule{Method: http.MethodGet, Path: "/v1/sessions/*", Status: http.StatusServiceUnavailable})
	get := func() error {
		_, err := env.getSession(env.ctx, id)
		return err
	}
	waitHalfOpen := func() {
		waitFor(t, "the circuit to turn half-open", func() bool {
			return env.policy.breaker.State() == gobreaker.StateHalfOpen
		})
	}

	// Three failures open the circuit; the fourth call never leaves.
	for range 3 {
		wantError(t, get(), connect.CodeUnavailable, "HTTP_503")
	}
	wantError(t, get(), connect.CodeUnavailable, ReasonCircuitOpen)
	if got := env.calls(routeGetSession); got != 3 {
		t.Fatalf("upstream calls with the circuit open = %d, want 3", got)
	}
	if got := circuitGauge(t, env); got != int64(gobreaker.StateOpen) {
		t.Errorf("circuit state gauge = %d, want %d (open)", got, gobreaker.StateOpen)
	}

	// A failed half-open probe opens the circuit again.
	waitHalfOpen()
	wantError(t, get(), connect.CodeUnavailable, "HTTP_503")
	wantError(t, get(), connect.CodeUnavailable, ReasonCircuitOpen)
	if got := env.calls(routeGetSession); got != 4 {
		t.Fatalf("upstream calls after the probe = %d, want 4", got)
	}

	// A successful probe closes it.
	env.sim.Faults().Clear()
	waitHalfOpen()
	for i := range 2 {
		if err := get(); err != nil {
			t.Fatalf("call %d after recovery: %v", i, err)
		}
	}
	if got := env.policy.breaker.State(); got != gobreaker.StateClosed {
		t.Errorf("circuit state = %v, want closed", got)
	}
	if got := circuitGauge(t, env); got != int64(gobreaker.StateClosed) {
		t.Errorf("circuit state gauge = %d, want %d (closed)", got, gobreaker.StateClosed)
	}
	if got := len(env.logLines(t, "upstream circuit changed state")); got != 5 {
		t.Errorf("state change log lines = %d, want 5 (open, half-open, open, half-open, closed)", got)
	}
}

// circuitGauge returns the last recorded circuit state.
func circuitGauge(t *testing.T, env *policyEnv) int64 {
	t.Helper()
	gauge, ok := env.metric(t, "groundcam.upstream.circuit.state").(metricdata.Gauge[int64])
	if !ok || len(gauge.DataPoints) != 1 {
		t.Fatalf("groundcam.upstream.circuit.state = %+v, want one int64 gauge point", gauge)
	}
	return gauge.DataPoints[0].Value
}

func TestPolicyBreakerIgnoresClientErrors(t *testing.T) {
	t.Parallel()
	cfg := PolicyConfig{MaxAttempts: 1, BreakerFailures: 2, BreakerOpen: time.Minute}
	env := newPolicyEnv(t, policyEnvConfig{policy: cfg})

	for range 5 {
		_, err := env.getSession(env.ctx, "no-such-session")
		wantError(t, err, connect.CodeNotFound, "")
	}

	if got := env.policy.breaker.State(); got != gobreaker.StateClosed {
		t.Errorf("circuit state = %v after 404s, want closed", got)
	}
}

func TestPolicyLoadShedding(t *testing.T) {
	t.Parallel()
	cfg := PolicyConfig{MaxConcurrent: 1, MaxQueued: 1, MaxAttempts: 1}
	env := newPolicyEnv(t, policyEnvConfig{policy: cfg})
	id := env.createSession(t)
	env.addFault(t, fault.Rule{Method: http.MethodGet, Path: "/v1/sessions/*", Hang: true})

	// One call hangs upstream and holds the only slot; a second waits.
	ctx, cancel := context.WithCancel(env.ctx)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			_, err := env.getSession(ctx, id)
			if connect.CodeOf(err) != connect.CodeCanceled {
				t.Errorf("held call: error = %v, want canceled", err)
			}
		})
	}
	waitFor(t, "one call in flight and one queued", func() bool {
		env.policy.mu.Lock()
		defer env.policy.mu.Unlock()
		return env.calls(routeGetSession) == 1 && env.policy.queued == 1
	})

	// A third call is shed at once, without reaching the upstream.
	shedCtx, shedCancel := context.WithTimeout(env.ctx, 10*time.Second)
	defer shedCancel()
	start := time.Now()
	_, err := env.getSession(shedCtx, id)
	elapsed := time.Since(start)
	wantError(t, err, connect.CodeResourceExhausted, ReasonOverloaded)
	if elapsed > 2*time.Second {
		t.Errorf("shed call took %v, want an immediate answer", elapsed)
	}
	if got := env.calls(routeGetSession); got != 1 {
		t.Errorf("upstream calls = %d, want 1", got)
	}
	if sum, ok := env.metric(t, "groundcam.upstream.shed").(metricdata.Sum[int64]); !ok ||
		len(sum.DataPoints) != 1 || sum.DataPoints[0].Value != 1 {
		t.Errorf("groundcam.upstream.shed = %+v, want 1", sum)
	}

	// Releasing the held calls frees the slot and the queue.
	cancel()
	wg.Wait()
	env.sim.Faults().Clear()
	if _, err := env.getSession(env.ctx, id); err != nil {
		t.Errorf("call after release: %v", err)
	}
}

func TestPolicyQueueDeadline(t *testing.T) {
	t.Parallel()
	cfg := PolicyConfig{MaxConcurrent: 1, MaxQueued: 4, MaxAttempts: 1}
	env := newPolicyEnv(t, policyEnvConfig{policy: cfg})
	id := env.createSession(t)
	env.addFault(t, fault.Rule{Method: http.MethodGet, Path: "/v1/sessions/*", Hang: true})
	held, release := context.WithCancel(env.ctx)
	defer release()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer release()
	wg.Go(func() { _, _ = env.getSession(held, id) })
	waitFor(t, "the held call to reach the upstream", func() bool { return env.calls(routeGetSession) == 1 })

	ctx, cancel := context.WithTimeout(env.ctx, 100*time.Millisecond)
	defer cancel()
	_, err := env.getSession(ctx, id)

	wantError(t, err, connect.CodeDeadlineExceeded, ReasonTimeout)
	if got := env.calls(routeGetSession); got != 1 {
		t.Errorf("upstream calls = %d, want 1", got)
	}
}

func TestPolicyBadBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		rule      fault.Rule
		maxBody   int64
		timeout   time.Duration
		wantCode  connect.Code
		reason    string
		wantCalls int
	}{
		{name: "truncated every time", rule: fault.Rule{Truncate: 10},
			wantCode: connect.CodeUnavailable, reason: ReasonInvalidResponse, wantCalls: 3},
		{name: "malformed JSON", rule: fault.Rule{Malformed: true, Times: 1},
			wantCode: connect.CodeUnavailable, reason: ReasonInvalidResponse, wantCalls: 1},
		{name: "malformed error body", rule: fault.Rule{Status: http.StatusBadRequest, Body: `{"error":`, Times: 1},
			wantCode: connect.CodeInvalidArgument, reason: "HTTP_400", wantCalls: 1},
		{name: "over the size cap", maxBody: 64,
			wantCode: connect.CodeUnavailable, reason: ReasonInvalidResponse, wantCalls: 1},
		{name: "slow body in time", rule: fault.Rule{SlowBody: 2 * time.Millisecond, ChunkSize: 256},
			wantCalls: 1},
		{name: "slow body past deadline", rule: fault.Rule{SlowBody: 200 * time.Millisecond, ChunkSize: 16},
			timeout: 300 * time.Millisecond, wantCode: connect.CodeDeadlineExceeded, reason: ReasonTimeout, wantCalls: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newPolicyEnv(t, policyEnvConfig{policy: fastRetries, maxBody: tc.maxBody})
			id := env.createSession(t)
			if tc.maxBody == 0 {
				rule := tc.rule
				rule.Method, rule.Path = http.MethodGet, "/v1/sessions/*"
				env.addFault(t, rule)
			}
			ctx := env.ctx
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}

			_, err := env.getSession(ctx, id)

			if tc.wantCode == 0 && err != nil {
				t.Fatalf("get session: %v", err)
			}
			if tc.wantCode != 0 {
				wantError(t, err, tc.wantCode, tc.reason)
			}
			if got := env.calls(routeGetSession); got != tc.wantCalls {
				t.Errorf("upstream calls = %d, want %d", got, tc.wantCalls)
			}
		})
	}
}
