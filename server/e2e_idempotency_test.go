package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jonboulle/clockwork"
	"google.golang.org/protobuf/proto"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/simulator"
	"github.com/groundcam/groundcam-gateway/simulator/fault"
)

const createRoute = "POST /v1/sessions"

// sessionsWithCRM counts the simulator's sessions with the CRM id.
func (h *harness) sessionsWithCRM(crmID string) int {
	h.t.Helper()
	return len(h.simGet("/v1/sessions?limit=100&crmId=" + crmID)["sessions"].([]any))
}

func TestIdempotencyKeyForwarded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	req := func() *connect.Request[groundcamv1.CreateSessionRequest] {
		return connect.NewRequest(&groundcamv1.CreateSessionRequest{
			ClientPhone: proto.String("+33612345678"), AgentId: h.agentID("Sophie Bernard"),
			SendSms: proto.Bool(false), CrmId: proto.String("IDEM-HEADER"),
		})
	}

	first := req()
	first.Header().Set("Idempotency-Key", "order-4711")
	res1, err := h.sessions.CreateSession(context.Background(), first)
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	if got := h.sim.LastHeaders(createRoute).Get("Idempotency-Key"); got != "order-4711" {
		t.Errorf("upstream Idempotency-Key = %q, want the caller's order-4711", got)
	}

	// The same key, given as the request field this time, replays the session.
	again := req()
	again.Msg.IdempotencyKey = proto.String("order-4711")
	res2, err := h.sessions.CreateSession(context.Background(), again)
	if err != nil {
		t.Fatalf("repeated CreateSession: %v", err)
	}
	if res2.Msg.GetSession().GetId() != res1.Msg.GetSession().GetId() {
		t.Errorf("repeated create gave session %s, want the first one %s",
			res2.Msg.GetSession().GetId(), res1.Msg.GetSession().GetId())
	}
	if n := h.sessionsWithCRM("IDEM-HEADER"); n != 1 {
		t.Errorf("simulator stores %d sessions, want 1", n)
	}

	// Without a key the gateway generates a new one per call.
	var generated []string
	for range 2 {
		if _, err := h.sessions.CreateSession(context.Background(), req()); err != nil {
			t.Fatalf("CreateSession without a key: %v", err)
		}
		key := h.sim.LastHeaders(createRoute).Get("Idempotency-Key")
		if !strings.HasPrefix(key, "gw_") {
			t.Errorf("generated Idempotency-Key = %q, want the gateway's gw_ prefix", key)
		}
		generated = append(generated, key)
	}
	if generated[0] == generated[1] {
		t.Errorf("two creates shared the generated key %q", generated[0])
	}

	bulk := connect.NewRequest(&groundcamv1.CreateSessionsBulkRequest{Sessions: []*groundcamv1.BulkSessionInput{
		{ClientPhone: "+33612345678", AgentId: h.agentID("Sophie Bernard"), SendSms: proto.Bool(false)},
	}})
	bulk.Header().Set("X-Idempotency-Key", "bulk-1")
	if _, err := h.sessions.CreateSessionsBulk(context.Background(), bulk); err != nil {
		t.Fatalf("CreateSessionsBulk: %v", err)
	}
	if got := h.sim.LastHeaders("POST /v1/sessions/bulk").Get("Idempotency-Key"); got != "bulk-1" {
		t.Errorf("bulk Idempotency-Key = %q, want bulk-1 from X-Idempotency-Key", got)
	}
}

func TestRetriedCreateNeverCreatesTwice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rule fault.Rule
	}{
		// The first attempt never reaches the handler.
		{"503 before the handler", fault.Rule{Status: http.StatusServiceUnavailable}},
		// The first attempt creates the session, then its response is cut.
		{"answer cut after the create", fault.Rule{Truncate: 10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{policy: &upstream.PolicyConfig{
				MaxAttempts: 2, BaseBackoff: time.Nanosecond, MaxBackoff: time.Nanosecond,
			}})
			rule := tc.rule
			rule.Method, rule.Path, rule.Times = http.MethodPost, "/v1/sessions", 1
			if _, err := h.sim.Faults().Add(rule); err != nil {
				t.Fatalf("add fault: %v", err)
			}

			res, err := h.sessions.CreateSession(context.Background(), connect.NewRequest(&groundcamv1.CreateSessionRequest{
				ClientPhone: proto.String("+33612345678"), AgentId: h.agentID("Sophie Bernard"),
				SendSms: proto.Bool(false), CrmId: proto.String("IDEM-RETRY"),
			}))
			if err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
			attempts := h.sim.Requests(createRoute)
			if len(attempts) != 2 {
				t.Fatalf("upstream attempts = %d, want 2", len(attempts))
			}
			if k0, k1 := attempts[0].Header.Get("Idempotency-Key"), attempts[1].Header.Get("Idempotency-Key"); k0 == "" || k0 != k1 {
				t.Errorf("attempts carried keys %q and %q, want the same generated key", k0, k1)
			}
			if n := h.sessionsWithCRM("IDEM-RETRY"); n != 1 {
				t.Errorf("simulator stores %d sessions, want 1", n)
			}
			if id := res.Msg.GetSession().GetId(); h.simGet("/v1/sessions/" + id)["crmId"] != "IDEM-RETRY" {
				t.Errorf("returned session %s is not the stored one", id)
			}
		})
	}
}

func TestIdempotencyConflict(t *testing.T) {
	t.Parallel()
	clock := clockwork.NewFakeClockAt(time.Now())
	h := newHarness(t, harnessOptions{sim: []simulator.Option{
		simulator.WithClock(clock), simulator.WithCreateDelay(time.Minute),
	}})
	agent := h.agentID("Sophie Bernard")
	create := func() (*connect.Response[groundcamv1.CreateSessionResponse], error) {
		req := connect.NewRequest(&groundcamv1.CreateSessionRequest{
			ClientPhone: proto.String("+33612345678"), AgentId: agent, SendSms: proto.Bool(false),
		})
		req.Header().Set("Idempotency-Key", "slow-1")
		return h.sessions.CreateSession(context.Background(), req)
	}

	first := make(chan error, 1)
	go func() {
		_, err := create()
		first <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatalf("the first create never waited on the simulator's clock: %v", err)
	}

	_, err := create()
	cerr := wantError(t, err, connect.CodeAborted, "IDEMPOTENCY_CONFLICT", 409)
	if want := "A request with this idempotency key is currently being processed"; cerr.Message() != want {
		t.Errorf("message = %q, want %q", cerr.Message(), want)
	}

	clock.Advance(time.Minute)
	if err := <-first; err != nil {
		t.Errorf("first create: %v", err)
	}
}
