package server_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

func TestVerifyApiKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	res, err := h.auth.VerifyApiKey(context.Background(), connect.NewRequest(&groundcamv1.VerifyApiKeyRequest{}))
	if err != nil {
		t.Fatalf("VerifyApiKey: %v", err)
	}
	acme := h.keys[keyAcme]
	if res.Msg.GetOrganizationId() != acme.OrganizationID || res.Msg.GetKey().GetId() != acme.KeyID {
		t.Errorf("organization and key = %s, %s, want %s, %s",
			res.Msg.GetOrganizationId(), res.Msg.GetKey().GetId(), acme.OrganizationID, acme.KeyID)
	}
	if res.Msg.GetPlan().GetStatus() != groundcamv1.PlanStatus_PLAN_STATUS_ACTIVE || !res.Msg.GetFeatures().GetApiAccess() {
		t.Errorf("plan = %v, features = %v, want an active plan with API access", res.Msg.GetPlan(), res.Msg.GetFeatures())
	}
	stored := h.simGet("/v1/credits")
	if got := res.Msg.GetCredits().GetAvailable(); float64(got) != stored["available"] {
		t.Errorf("available credits = %d, want %v", got, stored["available"])
	}

	tests := []struct {
		name   string
		key    int
		code   connect.Code
		reason string
		status int
	}{
		{"revoked key", keyRevoked, connect.CodeUnauthenticated, "API_KEY_REVOKED", 401},
		{"key of a deleted organization", keyOrphan, connect.CodeNotFound, "ORG_NOT_FOUND", 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.auth.VerifyApiKey(context.Background(),
				withKey(&groundcamv1.VerifyApiKeyRequest{}, h.key(tc.key)))
			wantError(t, err, tc.code, tc.reason, tc.status)
		})
	}
}

func TestListAgents(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	tests := []struct {
		name  string
		req   *groundcamv1.ListAgentsRequest
		query string
	}{
		{"enabled", &groundcamv1.ListAgentsRequest{}, ""},
		{"with disabled", &groundcamv1.ListAgentsRequest{IncludeDisabled: proto.Bool(true)}, "?includeDisabled=true"},
		{"agents only", &groundcamv1.ListAgentsRequest{Role: groundcamv1.AgentRole_AGENT_ROLE_AGENT}, "?role=agent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := h.agents.ListAgents(context.Background(), connect.NewRequest(tc.req))
			if err != nil {
				t.Fatalf("ListAgents: %v", err)
			}
			want := h.simGet("/v1/agents" + tc.query)["agents"].([]any)
			if int(res.Msg.GetTotal()) != len(want) || len(res.Msg.GetAgents()) != len(want) {
				t.Fatalf("agents = %d (total %d), want %d", len(res.Msg.GetAgents()), res.Msg.GetTotal(), len(want))
			}
			for i, a := range res.Msg.GetAgents() {
				stored := want[i].(map[string]any)
				if a.GetId() != stored["id"] || a.GetEmail() != stored["email"] || a.GetDisabled() != stored["disabled"] {
					t.Errorf("agents[%d] = %v, want %v", i, a, stored)
				}
			}
		})
	}
}

func TestGetCredits(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	res, err := h.credits.GetCredits(context.Background(), connect.NewRequest(&groundcamv1.GetCreditsRequest{}))
	if err != nil {
		t.Fatalf("GetCredits: %v", err)
	}
	b := res.Msg.GetBalance()
	stored := h.simGet("/v1/credits")
	sub := stored["subscription"].(map[string]any)
	pack := stored["pack"].(map[string]any)
	if float64(b.GetAvailable()) != stored["available"] || float64(b.GetSubscription().GetRemaining()) != sub["remaining"] ||
		float64(b.GetPack().GetRemaining()) != pack["remaining"] {
		t.Errorf("balance = %v, want %v", b, stored)
	}
	if b.GetSubscription().GetResetsAt() == nil {
		t.Error("subscription resetsAt is unset; the Acme plan renews monthly")
	}
}

func TestGetOrganization(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	res, err := h.organization.GetOrganization(context.Background(),
		connect.NewRequest(&groundcamv1.GetOrganizationRequest{}))
	if err != nil {
		t.Fatalf("GetOrganization: %v", err)
	}
	org := res.Msg.GetOrganization()
	stored := h.simGet("/v1/organization")
	if org.GetId() != stored["id"] || org.GetName() != stored["name"] || org.GetSlug() != stored["slug"] ||
		float64(org.GetMembersCount()) != stored["membersCount"] {
		t.Errorf("organization = %v, want %v", org, stored)
	}
	features := stored["features"].(map[string]any)
	if float64(org.GetFeatures().GetMaxSmsPerSession()) != features["maxSmsPerSession"] {
		t.Errorf("maxSmsPerSession = %d, want %v", org.GetFeatures().GetMaxSmsPerSession(), features["maxSmsPerSession"])
	}

	// The trial organization's plan is trialing.
	trial, err := h.organization.GetOrganization(context.Background(),
		withKey(&groundcamv1.GetOrganizationRequest{}, h.key(keyTrial)))
	if err != nil {
		t.Fatalf("GetOrganization with the trial key: %v", err)
	}
	if trial.Msg.GetOrganization().GetPlan().GetStatus() != groundcamv1.PlanStatus_PLAN_STATUS_TRIALING {
		t.Errorf("trial plan = %v, want trialing", trial.Msg.GetOrganization().GetPlan())
	}
}

func TestGetStats(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	for _, period := range []groundcamv1.StatsPeriod{
		groundcamv1.StatsPeriod_STATS_PERIOD_DAY, groundcamv1.StatsPeriod_STATS_PERIOD_MONTH,
	} {
		res, err := h.stats.GetStats(context.Background(), connect.NewRequest(&groundcamv1.GetStatsRequest{Period: period}))
		if err != nil {
			t.Fatalf("GetStats(%v): %v", period, err)
		}
		s := res.Msg.GetStats()
		if s.GetPeriod() != period {
			t.Errorf("period = %v, want %v", s.GetPeriod(), period)
		}
		wire := map[groundcamv1.StatsPeriod]string{
			groundcamv1.StatsPeriod_STATS_PERIOD_DAY: "day", groundcamv1.StatsPeriod_STATS_PERIOD_MONTH: "month",
		}[period]
		stored := h.simGet("/v1/stats?period=" + wire)
		sessions := stored["sessions"].(map[string]any)
		if float64(s.GetSessions().GetTotal()) != sessions["total"] ||
			float64(s.GetSessions().GetCompleted()) != sessions["completed"] {
			t.Errorf("%s sessions = %v, want %v", wire, s.GetSessions(), sessions)
		}
		if got := s.GetSatisfaction().GetAverage(); got != stored["satisfaction"].(map[string]any)["average"] {
			t.Errorf("%s average rating = %v, want %v", wire, got, stored["satisfaction"])
		}
	}
}

func TestConfigurationLists(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	types, err := h.config.ListClosureTypes(context.Background(),
		connect.NewRequest(&groundcamv1.ListClosureTypesRequest{}))
	if err != nil {
		t.Fatalf("ListClosureTypes: %v", err)
	}
	stored := h.simGet("/v1/closure-types")["closureTypes"].([]any)
	if len(types.Msg.GetClosureTypes()) != len(stored) {
		t.Fatalf("closure types = %d, want %d", len(types.Msg.GetClosureTypes()), len(stored))
	}
	for i, ct := range types.Msg.GetClosureTypes() {
		want := stored[i].(map[string]any)
		if ct.GetName() != want["name"] || ct.GetRequireComment() != want["requireComment"] || ct.GetColor() != want["color"] {
			t.Errorf("closure type %d = %v, want %v", i, ct, want)
		}
	}

	tags, err := h.config.ListTags(context.Background(), connect.NewRequest(&groundcamv1.ListTagsRequest{}))
	if err != nil {
		t.Fatalf("ListTags: %v", err)
	}
	var want []string
	for _, tag := range h.simGet("/v1/tags")["tags"].([]any) {
		want = append(want, tag.(string))
	}
	if !slices.Equal(tags.Msg.GetTags(), want) || int(tags.Msg.GetTotal()) != len(want) {
		t.Errorf("tags = %v (total %d), want %v", tags.Msg.GetTags(), tags.Msg.GetTotal(), want)
	}

	// The trial organization has no closure types: an empty list, not null.
	empty, err := h.config.ListClosureTypes(context.Background(),
		withKey(&groundcamv1.ListClosureTypesRequest{}, h.key(keyTrial)))
	if err != nil {
		t.Fatalf("ListClosureTypes with the trial key: %v", err)
	}
	if n := len(empty.Msg.GetClosureTypes()); n != 0 {
		t.Errorf("trial closure types = %d, want 0", n)
	}
	if status, _ := h.simCall(http.MethodGet, "/v1/closure-types", keyTrial, nil); status != http.StatusOK {
		t.Errorf("simulator status = %d, want 200", status)
	}
}
