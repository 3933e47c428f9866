package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/simulator/fault"
)

const verifyRoute = "GET /v1/auth/verify"

func TestAuthorizationForwarding(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})

	t.Run("caller key", func(t *testing.T) {
		res, err := h.auth.VerifyApiKey(context.Background(), withKey(&groundcamv1.VerifyApiKeyRequest{}, h.key(keyBistro)))
		if err != nil {
			t.Fatalf("VerifyApiKey: %v", err)
		}
		if res.Msg.GetOrganizationId() != h.keys[keyBistro].OrganizationID {
			t.Errorf("organization = %s, want the caller's %s", res.Msg.GetOrganizationId(), h.keys[keyBistro].OrganizationID)
		}
		if got := h.sim.LastHeaders(verifyRoute).Get("Authorization"); got != "Bearer "+h.key(keyBistro) {
			t.Error("the upstream did not receive the caller's key")
		}
	})
	t.Run("default key", func(t *testing.T) {
		res, err := h.auth.VerifyApiKey(context.Background(), connect.NewRequest(&groundcamv1.VerifyApiKeyRequest{}))
		if err != nil {
			t.Fatalf("VerifyApiKey: %v", err)
		}
		if res.Msg.GetOrganizationId() != h.keys[keyAcme].OrganizationID {
			t.Errorf("organization = %s, want the default key's %s", res.Msg.GetOrganizationId(), h.keys[keyAcme].OrganizationID)
		}
	})
	t.Run("invalid key is not echoed", func(t *testing.T) {
		const secret = "gc_live_0123456789abcdef0123456789abcdef"
		_, err := h.auth.VerifyApiKey(context.Background(), withKey(&groundcamv1.VerifyApiKeyRequest{}, secret))
		cerr := wantError(t, err, connect.CodeUnauthenticated, "INVALID_API_KEY", 401)
		if strings.Contains(fmt.Sprint(cerr), secret) || strings.Contains(fmt.Sprint(cerr.Details()), secret) {
			t.Error("the error shows the key")
		}
		for name, values := range cerr.Meta() {
			if strings.Contains(strings.Join(values, ","), secret) {
				t.Errorf("error header %s shows the key", name)
			}
		}
	})
	t.Run("malformed header", func(t *testing.T) {
		req := connect.NewRequest(&groundcamv1.VerifyApiKeyRequest{})
		req.Header().Set("Authorization", "Basic dXNlcjpwYXNz")
		before := h.sim.Calls()[verifyRoute]
		_, err := h.auth.VerifyApiKey(context.Background(), req)
		cerr := wantError(t, err, connect.CodeUnauthenticated, upstream.ReasonUnauthorized, 401)
		if strings.Contains(cerr.Message(), "dXNlcjpwYXNz") {
			t.Error("the error shows the credential")
		}
		if after := h.sim.Calls()[verifyRoute]; after != before {
			t.Error("a malformed header reached the upstream")
		}
	})
}

func TestNoDefaultKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{noDefaultKey: true})
	_, err := h.agents.ListAgents(context.Background(), connect.NewRequest(&groundcamv1.ListAgentsRequest{}))
	wantError(t, err, connect.CodeUnauthenticated, upstream.ReasonUnauthorized, 401)
	if n := h.sim.Calls()["total"]; n != 0 {
		t.Errorf("the simulator received %d requests, want none", n)
	}

	res, err := h.agents.ListAgents(context.Background(), withKey(&groundcamv1.ListAgentsRequest{}, h.key(keyAcme)))
	if err != nil {
		t.Fatalf("ListAgents with a key: %v", err)
	}
	if res.Msg.GetTotal() == 0 {
		t.Error("no agents listed")
	}
}

func TestKeyErrorsPrecedeFieldErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	badBody := &groundcamv1.CreateSessionRequest{ClientPhone: proto.String("12"), AgentId: "a"}

	tests := []struct {
		name   string
		key    string
		code   connect.Code
		reason string
		status int
	}{
		{"unknown key", "gc_live_unknown", connect.CodeUnauthenticated, "INVALID_API_KEY", 401},
		{"revoked key", h.key(keyRevoked), connect.CodeUnauthenticated, "API_KEY_REVOKED", 401},
		{"key of a deleted organization", h.key(keyOrphan), connect.CodeNotFound, "ORG_NOT_FOUND", 404},
		{"valid key", h.key(keyBistro), connect.CodeInvalidArgument, "INVALID_PHONE", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.sessions.CreateSession(context.Background(), withKey(badBody, tc.key))
			wantError(t, err, tc.code, tc.reason, tc.status)
		})
	}
	if n := h.sim.Calls()["POST /v1/sessions"]; n != 0 {
		t.Errorf("the simulator received %d creates, want none", n)
	}

	// A key found valid is remembered: more bad requests verify nothing.
	before := h.sim.Calls()[verifyRoute]
	for range 3 {
		_, err := h.sessions.CreateSession(context.Background(), withKey(badBody, h.key(keyBistro)))
		wantError(t, err, connect.CodeInvalidArgument, "INVALID_PHONE", 400)
	}
	if after := h.sim.Calls()[verifyRoute]; after != before {
		t.Errorf("the gateway verified the key %d more times, want 0", after-before)
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.sim.SetRateLimit(2, time.Hour)

	res, err := h.credits.GetCredits(context.Background(), connect.NewRequest(&groundcamv1.GetCreditsRequest{}))
	if err != nil {
		t.Fatalf("GetCredits: %v", err)
	}
	for name, want := range map[string]string{"X-Ratelimit-Limit": "2", "X-Ratelimit-Remaining": "1"} {
		if got := res.Header().Get(name); got != want {
			t.Errorf("response header %s = %q, want %q", name, got, want)
		}
	}
	if res.Header().Get("X-Ratelimit-Reset") == "" {
		t.Error("response has no X-RateLimit-Reset header")
	}
	if _, err := h.credits.GetCredits(context.Background(), connect.NewRequest(&groundcamv1.GetCreditsRequest{})); err != nil {
		t.Fatalf("second GetCredits: %v", err)
	}

	_, err = h.credits.GetCredits(context.Background(), connect.NewRequest(&groundcamv1.GetCreditsRequest{}))
	cerr := wantError(t, err, connect.CodeResourceExhausted, "RATE_LIMITED", 429)
	info := retryInfo(t, cerr)
	if info == nil {
		t.Fatal("the 429 has no RetryInfo detail")
	}
	if d := info.GetRetryDelay().AsDuration(); d <= 0 || d > time.Hour {
		t.Errorf("RetryInfo delay = %v, want up to the 1-hour window", d)
	}
	if got := cerr.Meta().Get("X-Ratelimit-Remaining"); got != "0" {
		t.Errorf("error header X-RateLimit-Remaining = %q, want 0", got)
	}
	if cerr.Meta().Get("Retry-After") == "" {
		t.Error("error has no Retry-After header")
	}
}

func TestUpstreamFailureIsUnavailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	if _, err := h.sim.Faults().Add(fault.Rule{Method: http.MethodGet, Path: "/v1/credits", Status: 503, Times: 1}); err != nil {
		t.Fatalf("add fault: %v", err)
	}
	_, err := h.credits.GetCredits(context.Background(), connect.NewRequest(&groundcamv1.GetCreditsRequest{}))
	wantError(t, err, connect.CodeUnavailable, "HTTP_503", 503)

	if _, err := h.sim.Faults().Add(fault.Rule{Method: http.MethodGet, Path: "/v1/credits", Malformed: true, Times: 1}); err != nil {
		t.Fatalf("add fault: %v", err)
	}
	_, err = h.credits.GetCredits(context.Background(), connect.NewRequest(&groundcamv1.GetCreditsRequest{}))
	wantError(t, err, connect.CodeUnavailable, "UPSTREAM_INVALID_RESPONSE", 502)
}
