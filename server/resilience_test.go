package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/gen/groundcam/v1/groundcamv1connect"
	"github.com/groundcam/groundcam-gateway/internal/testutil"
	"github.com/groundcam/groundcam-gateway/server"
	"github.com/groundcam/groundcam-gateway/simulator"
	"github.com/groundcam/groundcam-gateway/simulator/fault"
)

// resilMargin is how far past its deadline a call may return before a
// test fails. It is generous so that a loaded CI machine passes too. What
// matters is that the call does not wait for the upstream.
const resilMargin = 3 * time.Second

// faultGateway is a simulator and a gateway in front of it, each on its
// own loopback port, with Connect clients that call the gateway.
type faultGateway struct {
	sim      *simulator.Server
	url      string // the gateway's root URL
	agentID  string
	caller   *http.Client
	sessions groundcamv1connect.SessionServiceClient
	metrics  *sdkmetric.ManualReader
	// close stops both servers and closes idle connections; it is
	// idempotent.
	close func()
}

// faultGatewayConfig configures [startFaultGateway].
type faultGatewayConfig struct {
	policy upstream.PolicyConfig
	// logger receives the gateway's logs; nil discards them.
	logger *slog.Logger
}

// startFaultGateway starts a simulator whose rate limit is high enough
// that every 429 comes from an injected fault, and a gateway whose default
// key is the demo Pro organization's. The caller must call close.
func startFaultGateway(t *testing.T, cfg faultGatewayConfig) *faultGateway {
	t.Helper()
	logger := cfg.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sim, err := simulator.New(simulator.WithRateLimit(1_000_000, time.Minute))
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	simServer := httptest.NewServer(sim)

	reader := sdkmetric.NewManualReader()
	policy := upstream.NewPolicy(cfg.policy,
		upstream.WithPolicyLogger(logger),
		upstream.WithPolicyMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	upstreamTransport := &http.Transport{MaxIdleConnsPerHost: 16}
	client, err := upstream.New(simServer.URL+"/v1",
		upstream.WithPolicy(policy),
		upstream.WithHTTPClient(&http.Client{Transport: upstreamTransport}),
		upstream.WithLogger(logger))
	if err != nil {
		t.Fatalf("new upstream client: %v", err)
	}
	gateway, err := server.New(server.Config{Upstream: client, DefaultAPIKey: sim.Keys()[0].Key, Logger: logger})
	if err != nil {
		t.Fatalf("new gateway: %v", err)
	}
	gatewayServer := httptest.NewServer(gateway)
	callerTransport := &http.Transport{MaxIdleConnsPerHost: 16}

	g := &faultGateway{
		sim:     sim,
		url:     gatewayServer.URL,
		caller:  &http.Client{Transport: callerTransport},
		metrics: reader,
		close: sync.OnceFunc(func() {
			callerTransport.CloseIdleConnections()
			gatewayServer.Close()
			upstreamTransport.CloseIdleConnections()
			// Closing the simulator first releases hanging requests.
			sim.Close()
			simServer.Close()
		}),
	}
	g.sessions = groundcamv1connect.NewSessionServiceClient(g.caller, g.url)
	g.agentID = g.firstAgent(t)
	return g
}

// firstAgent returns an agent id of the demo Pro organization.
func (g *faultGateway) firstAgent(t *testing.T) string {
	t.Helper()
	agents := groundcamv1connect.NewAgentServiceClient(g.caller, g.url)
	res, err := agents.ListAgents(t.Context(), connect.NewRequest(&groundcamv1.ListAgentsRequest{}))
	if err != nil {
		g.close()
		t.Fatalf("list agents: %v", err)
	}
	if len(res.Msg.GetAgents()) == 0 {
		g.close()
		t.Fatal("list agents: the demo organization has no agents")
	}
	return res.Msg.GetAgents()[0].GetId()
}

// newSession creates a session before any fault is added.
func (g *faultGateway) newSession(t *testing.T) string {
	t.Helper()
	id, err := g.create(soakCreate{crmID: "resilience", key: "resilience-" + t.Name()})
	if err != nil {
		t.Fatalf("create session: %v", err)
	}
	return id
}

// addFault adds a fault rule to the simulator.
func (g *faultGateway) addFault(t *testing.T, rule fault.Rule) {
	t.Helper()
	if _, err := g.sim.Faults().Add(rule); err != nil {
		t.Fatalf("add fault: %v", err)
	}
}

// getCalls returns how many session reads reached the simulator.
func (g *faultGateway) getCalls() int {
	return g.sim.Calls()["GET /v1/sessions/{id}"]
}

// getSession reads a session over Connect.
func (g *faultGateway) getSession(ctx context.Context, id string) error {
	_, err := g.sessions.GetSession(ctx, connect.NewRequest(&groundcamv1.GetSessionRequest{Id: id}))
	return err
}

// restGet reads a session over the REST face and returns the response
// with the error body decoded.
func (g *faultGateway) restGet(t *testing.T, id string) (*http.Response, restErrorEnvelope) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, g.url+"/v1/sessions/"+id, nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	res, body := testutil.Do(t, g.caller, req)
	var envelope restErrorEnvelope
	if res.StatusCode >= 400 {
		if err := json.Unmarshal(body, &envelope); err != nil {
			t.Fatalf("HTTP %d body is not the error envelope: %v\n%s", res.StatusCode, err, body)
		}
	}
	return res, envelope
}

// restErrorEnvelope is the upstream's error body, which the REST face
// sends for every error.
type restErrorEnvelope struct {
	Error struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	} `json:"error"`
}

// checkConnectError checks err's code and the reason of its ErrorInfo.
func checkConnectError(t *testing.T, err error, code connect.Code, reason string) {
	t.Helper()
	if got := connect.CodeOf(err); got != code {
		t.Fatalf("code = %v, want %v (error: %v)", got, code, err)
	}
	if reason == "" {
		return
	}
	info, ok := upstream.ErrorInfoOf(err)
	if !ok {
		t.Fatalf("error %v has no ErrorInfo detail", err)
	}
	if info.GetReason() != reason {
		t.Errorf("reason = %q, want %q", info.GetReason(), reason)
	}
}

func TestResilienceDeadline(t *testing.T) {
	t.Parallel()
	const limit = 300 * time.Millisecond
	tests := []struct {
		name       string
		rest       bool
		callerSets bool // the caller sends its own deadline of limit
	}{
		{name: "connect caller deadline", callerSets: true},
		{name: "connect default timeout"},
		{name: "rest default timeout", rest: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := startFaultGateway(t, faultGatewayConfig{policy: upstream.PolicyConfig{DefaultTimeout: limit}})
			t.Cleanup(g.close)
			id := g.newSession(t)
			g.addFault(t, fault.Rule{Method: http.MethodGet, Path: "/v1/sessions/*", Hang: true})

			start := time.Now()
			if tc.rest {
				res, body := g.restGet(t, id)
				if res.StatusCode != http.StatusGatewayTimeout || body.Error.Code != upstream.ReasonTimeout {
					t.Errorf("REST answer = %d %q, want 504 %s", res.StatusCode, body.Error.Code, upstream.ReasonTimeout)
				}
			} else {
				ctx := t.Context()
				if tc.callerSets {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, limit)
					defer cancel()
				}
				// A caller deadline may expire in the client first, which
				// then has no ErrorInfo to show.
				reason := upstream.ReasonTimeout
				if tc.callerSets {
					reason = ""
				}
				checkConnectError(t, g.getSession(ctx, id), connect.CodeDeadlineExceeded, reason)
			}
			if elapsed := time.Since(start); elapsed > limit+resilMargin {
				t.Errorf("call took %v, want about %v", elapsed, limit)
			}
			if got := g.getCalls(); got != 1 {
				t.Errorf("upstream calls = %d, want 1: a timed-out attempt leaves no time for a retry", got)
			}
		})
	}
}

func TestResilienceErrorDetails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		rule       fault.Rule
		code       connect.Code
		reason     string
		restStatus int
	}{
		{"rate limited past deadline", fault.Rule{Status: http.StatusTooManyRequests,
			Header: map[string]string{"Retry-After": "30"},
			Body:   `{"error": {"message": "Rate limit exceeded", "code": "RATE_LIMITED"}}`},
			connect.CodeResourceExhausted, "RATE_LIMITED", http.StatusTooManyRequests},
		{"malformed body", fault.Rule{Malformed: true},
			connect.CodeUnavailable, upstream.ReasonInvalidResponse, http.StatusBadGateway},
		{"truncated body", fault.Rule{Truncate: 16},
			connect.CodeUnavailable, upstream.ReasonInvalidResponse, http.StatusBadGateway},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The breaker stays closed: both faces must meet the fault.
			policy := upstream.PolicyConfig{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
				BreakerFailures: 1000}
			g := startFaultGateway(t, faultGatewayConfig{policy: policy})
			t.Cleanup(g.close)
			id := g.newSession(t)
			rule := tc.rule
			rule.Method, rule.Path = http.MethodGet, "/v1/sessions/*"
			g.addFault(t, rule)
			const timeout = 5 * time.Second
			ctx, cancel := context.WithTimeout(t.Context(), timeout)
			defer cancel()

			start := time.Now()
			err := g.getSession(ctx, id)
			elapsed := time.Since(start)

			checkConnectError(t, err, tc.code, tc.reason)
			if elapsed > timeout/2 {
				t.Errorf("call took %v, want an answer well before the %v deadline", elapsed, timeout)
			}
			if tc.code == connect.CodeResourceExhausted {
				checkRetryInfo(t, err, 30*time.Second)
			}
			res, body := g.restGet(t, id)
			if res.StatusCode != tc.restStatus || body.Error.Code != tc.reason {
				t.Errorf("REST answer = %d %q, want %d %s", res.StatusCode, body.Error.Code, tc.restStatus, tc.reason)
			}
			if tc.restStatus == http.StatusTooManyRequests && res.Header.Get("Retry-After") != "30" {
				t.Errorf("REST Retry-After = %q, want 30", res.Header.Get("Retry-After"))
			}
		})
	}
}

// checkRetryInfo checks the RetryInfo detail of err.
func checkRetryInfo(t *testing.T, err error, want time.Duration) {
	t.Helper()
	var cerr *connect.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("error %v is not a *connect.Error", err)
	}
	for _, d := range cerr.Details() {
		if msg, valueErr := d.Value(); valueErr == nil {
			if info, ok := msg.(*errdetails.RetryInfo); ok {
				if got := info.GetRetryDelay().AsDuration(); got != want {
					t.Errorf("RetryInfo delay = %v, want %v", got, want)
				}
				return
			}
		}
	}
	t.Errorf("error %v has no RetryInfo detail", err)
}

func TestResilienceCircuitOpen(t *testing.T) {
	t.Parallel()
	policy := upstream.PolicyConfig{MaxAttempts: 1, BreakerFailures: 2, BreakerOpen: time.Minute}
	g := startFaultGateway(t, faultGatewayConfig{policy: policy})
	t.Cleanup(g.close)
	id := g.newSession(t)
	g.addFault(t, fault.Rule{Method: http.MethodGet, Path: "/v1/sessions/*", Status: http.StatusBadGateway})

	for range 2 {
		checkConnectError(t, g.getSession(t.Context(), id), connect.CodeUnavailable, "HTTP_502")
	}
	start := time.Now()
	checkConnectError(t, g.getSession(t.Context(), id), connect.CodeUnavailable, upstream.ReasonCircuitOpen)
	res, body := g.restGet(t, id)

	if elapsed := time.Since(start); elapsed > resilMargin {
		t.Errorf("calls with the circuit open took %v, want them to fail at once", elapsed)
	}
	if res.StatusCode != http.StatusServiceUnavailable || body.Error.Code != upstream.ReasonCircuitOpen {
		t.Errorf("REST answer = %d %q, want 503 %s", res.StatusCode, body.Error.Code, upstream.ReasonCircuitOpen)
	}
	if got := g.getCalls(); got != 2 {
		t.Errorf("upstream calls = %d, want 2: an open circuit sends nothing", got)
	}
}

func TestResilienceOverload(t *testing.T) {
	t.Parallel()
	policy := upstream.PolicyConfig{MaxAttempts: 1, MaxConcurrent: 1, MaxQueued: 1}
	g := startFaultGateway(t, faultGatewayConfig{policy: policy})
	t.Cleanup(g.close)
	id := g.newSession(t)
	g.addFault(t, fault.Rule{Method: http.MethodGet, Path: "/v1/sessions/*", Hang: true})

	// The first call holds the only slot.
	holding, release := context.WithCancel(t.Context())
	defer release()
	results := make(chan error, 3)
	call := func() { results <- g.getSession(holding, id) }
	go call()
	deadline := time.Now().Add(10 * time.Second)
	for g.getCalls() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the first call never reached the upstream")
		}
		time.Sleep(2 * time.Millisecond)
	}

	// Of the next two, one waits in the queue and the other is shed.
	start := time.Now()
	go call()
	go call()
	err := <-results
	checkConnectError(t, err, connect.CodeResourceExhausted, upstream.ReasonOverloaded)
	if elapsed := time.Since(start); elapsed > resilMargin {
		t.Errorf("shed call took %v, want an immediate answer", elapsed)
	}
	if got := g.getCalls(); got != 1 {
		t.Errorf("upstream calls = %d, want 1", got)
	}

	release()
	for range 2 {
		if err := <-results; connect.CodeOf(err) != connect.CodeCanceled {
			t.Errorf("released call: error = %v, want canceled", err)
		}
	}
}

// panickingUpstream is a stand-in for the upstream client that panics on
// every call.
type panickingUpstream struct{}

var _ server.Upstream = panickingUpstream{}

func (panickingUpstream) Call(context.Context, protoreflect.FullName, proto.Message, proto.Message) (*upstream.Result, error) {
	panic("panickingUpstream: simulated bug with a secret-looking value gc_live_deadbeef")
}

func TestResiliencePanicRecovered(t *testing.T) {
	t.Parallel()
	logs := &testutil.LockedBuffer{}
	gateway, err := server.New(server.Config{
		Upstream:      panickingUpstream{},
		DefaultAPIKey: "gc_live_test",
		Logger:        slog.New(slog.NewJSONHandler(logs, nil)),
	})
	if err != nil {
		t.Fatalf("new gateway: %v", err)
	}
	srv := httptest.NewServer(gateway)
	t.Cleanup(srv.Close)
	sessions := groundcamv1connect.NewSessionServiceClient(srv.Client(), srv.URL)

	_, connectErr := sessions.GetSession(t.Context(), connect.NewRequest(&groundcamv1.GetSessionRequest{Id: "Xk9mPq2rT4wZ"}))
	res, err := srv.Client().Get(srv.URL + "/v1/sessions/Xk9mPq2rT4wZ")
	if err != nil {
		t.Fatalf("REST call: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()

	checkConnectError(t, connectErr, connect.CodeInternal, "")
	if strings.Contains(connectErr.Error(), "gc_live_deadbeef") {
		t.Errorf("Connect error %q shows the panic value", connectErr)
	}
	if res.StatusCode != http.StatusInternalServerError {
		t.Errorf("REST status = %d, want 500", res.StatusCode)
	}
	if bytes.Contains(body, []byte("gc_live_deadbeef")) {
		t.Errorf("REST body %s shows the panic value", body)
	}
	if got := countErrorLogs(t, logs, "handler panicked"); got != 2 {
		t.Errorf("panic log lines = %d, want one per call, 2", got)
	}
	if got := countErrorLogs(t, logs, ""); got != 2 {
		t.Errorf("error log lines = %d, want only the 2 panic lines:\n%s", got, logs.String())
	}
}

// countErrorLogs returns how many JSON log records in logs are at level
// ERROR and have the message msg, or any message when msg is "".
func countErrorLogs(t *testing.T, logs *testutil.LockedBuffer, msg string) int {
	t.Helper()
	n := 0
	for _, record := range testutil.LogRecords(t, logs.String(), msg) {
		if record["level"] == "ERROR" {
			n++
		}
	}
	return n
}
