package upstream

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jonboulle/clockwork"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/reflect/protoreflect"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/internal/testutil"
	"github.com/groundcam/groundcam-gateway/simulator"
	"github.com/groundcam/groundcam-gateway/simulator/fault"
)

// Methods the policy tests call, and the simulator's call counter keys of
// their upstream routes.
const (
	methodGetSession    protoreflect.FullName = "groundcam.v1.SessionService.GetSession"
	methodCreateSession protoreflect.FullName = "groundcam.v1.SessionService.CreateSession"
	methodCancelSession protoreflect.FullName = "groundcam.v1.SessionService.CancelSession"
	methodEndSession    protoreflect.FullName = "groundcam.v1.SessionService.EndSession"
	methodUpdateSession protoreflect.FullName = "groundcam.v1.SessionService.UpdateSession"
	methodListSessions  protoreflect.FullName = "groundcam.v1.SessionService.ListSessions"

	routeGetSession    = "GET /v1/sessions/{id}"
	routeCreateSession = "POST /v1/sessions"
	routeCancelSession = "POST /v1/sessions/{id}/cancel"
	routeEndSession    = "POST /v1/sessions/{id}/end"
	routeUpdateSession = "PATCH /v1/sessions/{id}"
)

// policyEnvConfig configures [newPolicyEnv].
type policyEnvConfig struct {
	policy PolicyConfig
	// clock is the policy's clock; nil selects the real clock.
	clock clockwork.Clock
	// maxBody caps response bodies; 0 keeps the client's default.
	maxBody int64
	// baseURL replaces the simulator's URL as the client's upstream.
	baseURL string
}

// policyEnv is a simulator behind a real HTTP server on 127.0.0.1 and a
// client that reaches it through the policy under test.
type policyEnv struct {
	sim     *simulator.Server
	client  *Client
	setup   *Client // no policy and no faults expected: prepares and checks state
	policy  *Policy
	ctx     context.Context // carries the demo Pro organization's API key
	agentID string
	metrics *sdkmetric.ManualReader
	logs    *testutil.LockedBuffer
}

// newPolicyEnv starts a simulator, whose rate limit is high enough that
// only injected faults answer 429, and a client with cfg's policy.
func newPolicyEnv(t *testing.T, cfg policyEnvConfig) *policyEnv {
	t.Helper()
	sim, err := simulator.New(simulator.WithRateLimit(1_000_000, time.Minute))
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	server := httptest.NewServer(sim)
	t.Cleanup(server.Close)
	// Runs before server.Close: it releases hanging requests.
	t.Cleanup(sim.Close)

	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	env := &policyEnv{sim: sim, metrics: sdkmetric.NewManualReader(), logs: &testutil.LockedBuffer{}}
	logger := slog.New(slog.NewJSONHandler(env.logs, nil))
	popts := []PolicyOption{
		WithPolicyLogger(logger),
		WithPolicyMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(env.metrics))),
	}
	if cfg.clock != nil {
		popts = append(popts, WithPolicyClock(cfg.clock))
	}
	env.policy = NewPolicy(cfg.policy, popts...)

	copts := []Option{WithPolicy(env.policy), WithHTTPClient(&http.Client{Transport: transport}), WithLogger(logger)}
	if cfg.maxBody > 0 {
		copts = append(copts, WithMaxResponseBytes(cfg.maxBody))
	}
	base := server.URL + "/v1"
	if cfg.baseURL != "" {
		base = cfg.baseURL
	}
	if env.client, err = New(base, copts...); err != nil {
		t.Fatalf("new client: %v", err)
	}
	setupTransport := &http.Transport{}
	t.Cleanup(setupTransport.CloseIdleConnections)
	if env.setup, err = New(server.URL+"/v1", WithHTTPClient(&http.Client{Transport: setupTransport})); err != nil {
		t.Fatalf("new client: %v", err)
	}
	env.ctx = WithAPIKey(t.Context(), sim.Keys()[0].Key)
	env.agentID = env.firstAgent(t)
	return env
}

// firstAgent returns an agent id of the demo Pro organization.
func (e *policyEnv) firstAgent(t *testing.T) string {
	t.Helper()
	res := new(groundcamv1.ListAgentsResponse)
	if _, err := e.setup.Call(e.ctx, "groundcam.v1.AgentService.ListAgents", &groundcamv1.ListAgentsRequest{}, res); err != nil {
		t.Fatalf("list agents: %v", err)
	}
	if len(res.GetAgents()) == 0 {
		t.Fatal("list agents: the demo organization has no agents")
	}
	return res.GetAgents()[0].GetId()
}

// createRequest returns a session create that sends no SMS, tagged with
// crmID so that the test can find the sessions it created.
func (e *policyEnv) createRequest(crmID string) *groundcamv1.CreateSessionRequest {
	return &groundcamv1.CreateSessionRequest{
		AgentId:     e.agentID,
		ClientPhone: new("+33612345678"),
		SendSms:     new(false),
		CrmId:       new(crmID),
	}
}

// createSession creates a session before any fault is added and returns
// its id.
func (e *policyEnv) createSession(t *testing.T) string {
	t.Helper()
	res := new(groundcamv1.CreateSessionResponse)
	if _, err := e.setup.Call(e.ctx, methodCreateSession, e.createRequest("setup"), res); err != nil {
		t.Fatalf("create session: %v", err)
	}
	return res.GetSession().GetId()
}

// getSession reads a session through the policy.
func (e *policyEnv) getSession(ctx context.Context, id string) (*Result, error) {
	return e.client.Call(ctx, methodGetSession, &groundcamv1.GetSessionRequest{Id: id}, new(groundcamv1.GetSessionResponse))
}

// sessionsWithCRM counts the organization's sessions tagged with crmID,
// once the faults are gone.
func (e *policyEnv) sessionsWithCRM(t *testing.T, crmID string) int {
	t.Helper()
	res := new(groundcamv1.ListSessionsResponse)
	req := &groundcamv1.ListSessionsRequest{CrmId: new(crmID), Limit: new(int32(100))}
	if _, err := e.setup.Call(e.ctx, methodListSessions, req, res); err != nil {
		t.Fatalf("list sessions: %v", err)
	}
	return len(res.GetSessions())
}

// addFault adds a fault rule to the simulator.
func (e *policyEnv) addFault(t *testing.T, rule fault.Rule) {
	t.Helper()
	if _, err := e.sim.Faults().Add(rule); err != nil {
		t.Fatalf("add fault: %v", err)
	}
}

// calls returns how many requests the simulator received on route.
func (e *policyEnv) calls(route string) int {
	return e.sim.Calls()[route]
}

// logLines returns the JSON log records whose message is msg.
func (e *policyEnv) logLines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	return testutil.LogRecords(t, e.logs.String(), msg)
}

// metric returns the data points of the named metric, or nil.
func (e *policyEnv) metric(t *testing.T, name string) metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := e.metrics.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("collect metrics: %v", err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m.Data
			}
		}
	}
	return nil
}

// refusedURL returns an http URL on 127.0.0.1 where nothing listens, so
// that connecting to it is refused.
func refusedURL(t *testing.T) string {
	t.Helper()
	return "http://" + testutil.FreeAddr(t) + "/v1"
}

// waitFor polls cond until it holds, failing the test after a generous
// deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// wantError checks err's Connect code and, when reason is not "", the
// reason of its ErrorInfo detail.
func wantError(t *testing.T, err error, code connect.Code, reason string) {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil, want %v", code)
	}
	if got := connect.CodeOf(err); got != code {
		t.Fatalf("code = %v, want %v (error: %v)", got, code, err)
	}
	if reason == "" {
		return
	}
	info, ok := ErrorInfoOf(err)
	if !ok {
		t.Fatalf("error %v has no ErrorInfo detail", err)
	}
	if info.GetReason() != reason {
		t.Fatalf("reason = %q, want %q (error: %v)", info.GetReason(), reason, err)
	}
}

// retryInfoOf returns the RetryInfo detail of err.
func retryInfoOf(err error) (*errdetails.RetryInfo, bool) {
	var cerr *connect.Error
	if !errors.As(err, &cerr) {
		return nil, false
	}
	for _, d := range cerr.Details() {
		if msg, valueErr := d.Value(); valueErr == nil {
			if info, ok := msg.(*errdetails.RetryInfo); ok {
				return info, true
			}
		}
	}
	return nil, false
}
