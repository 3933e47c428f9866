package simulator

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestListAgents(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		query string
		count int
	}{
		{"", 5},
		{"?includeDisabled=true", 6},
		{"?role=agent", 2},
		{"?role=agent&includeDisabled=true", 3},
		{"?role=viewer", 1},
		{"?role=owner", 1},
	}
	for _, tt := range tests {
		r := h.do("GET", "/v1/agents"+tt.query, h.acme.Key, nil)
		want(t, r, http.StatusOK, "")
		if got := len(list(r.data(), "agents")); got != tt.count {
			t.Errorf("agents%s: %d agents, want %d", tt.query, got, tt.count)
		}
		if got := num(r.data(), "total"); int(got) != tt.count {
			t.Errorf("agents%s: total %v, want %d", tt.query, got, tt.count)
		}
	}

	r := h.do("GET", "/v1/agents?role=boss", h.acme.Key, nil)
	want(t, r, http.StatusBadRequest, codeInvalidField)
	if r.message() != "role must be one of: owner, admin, agent, viewer" {
		t.Errorf("message %q", r.message())
	}
	r = h.do("GET", "/v1/agents?includeDisabled=yes", h.acme.Key, nil)
	want(t, r, http.StatusBadRequest, codeInvalidField)
}

func TestCreditsMatchOrganization(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, key := range []DemoKey{h.acme, h.bistro, h.nordlicht} {
		credits := h.do("GET", "/v1/credits", key.Key, nil)
		want(t, credits, http.StatusOK, "")
		org := h.do("GET", "/v1/organization", key.Key, nil)
		want(t, org, http.StatusOK, "")
		verify := h.do("GET", "/v1/auth/verify", key.Key, nil)
		want(t, verify, http.StatusOK, "")

		c := credits.data()
		available := num(c, "available")
		sub := num(obj(c, "subscription"), "remaining")
		pack := num(obj(c, "pack"), "remaining")
		if available != sub+pack {
			t.Errorf("%s: available %v != subscription %v + pack %v", key.OrganizationName, available, sub, pack)
		}
		for _, other := range []map[string]any{obj(org.data(), "credits"), obj(verify.data(), "credits")} {
			if num(other, "available") != available || num(other, "subscriptionCredits") != sub ||
				num(other, "packCredits") != pack {
				t.Errorf("%s: credits %v differ from GET /credits %v", key.OrganizationName, other, c)
			}
		}
		if str(org.data(), "id") != key.OrganizationID || str(verify.data(), "organizationId") != key.OrganizationID {
			t.Errorf("%s: organization ids differ from the demo key", key.OrganizationName)
		}
		if str(obj(verify.data(), "key"), "id") != key.KeyID {
			t.Errorf("%s: verify key id %q, want %q", key.OrganizationName, str(obj(verify.data(), "key"), "id"), key.KeyID)
		}
		if str(obj(verify.data(), "key"), "prefix") != key.Key[:16] {
			t.Errorf("%s: prefix %q", key.OrganizationName, str(obj(verify.data(), "key"), "prefix"))
		}
	}

	// Nordlicht has no subscription, so nothing resets.
	r := h.do("GET", "/v1/credits", h.nordlicht.Key, nil)
	if obj(r.data(), "subscription")["resetsAt"] != nil {
		t.Errorf("resetsAt %v, want null without a subscription", obj(r.data(), "subscription")["resetsAt"])
	}
	r = h.do("GET", "/v1/credits", h.acme.Key, nil)
	if got := str(obj(r.data(), "subscription"), "resetsAt"); got != "2026-04-01T00:00:00.000Z" {
		t.Errorf("resetsAt %q, want the first of next month", got)
	}

	org := h.do("GET", "/v1/organization", h.acme.Key, nil)
	if got := num(org.data(), "membersCount"); got != 5 {
		t.Errorf("membersCount %v, want 5 (the disabled agent is not counted)", got)
	}
	if got := num(obj(org.data(), "features"), "maxSmsPerSession"); got != 3 {
		t.Errorf("maxSmsPerSession %v, want 3", got)
	}
}

func TestSubscriptionCreditsReset(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sophie := h.agentID(h.bistro, "Julie Martin")
	body := map[string]any{"clientPhone": "+33612345678", "agentId": sophie, "sendSms": false}
	want(t, h.do("POST", "/v1/sessions", h.bistro.Key, body), http.StatusCreated, "")
	r := h.do("GET", "/v1/credits", h.bistro.Key, nil)
	if got := num(obj(r.data(), "subscription"), "remaining"); got != 0 {
		t.Fatalf("subscription remaining %v, want 0 after one session", got)
	}

	h.clock.Advance(20 * 24 * time.Hour) // into April
	r = h.do("GET", "/v1/credits", h.bistro.Key, nil)
	if got := num(obj(r.data(), "subscription"), "remaining"); got != 5 {
		t.Errorf("subscription remaining %v, want the quota 5 after the reset", got)
	}
	if got := str(obj(r.data(), "subscription"), "resetsAt"); got != "2026-05-01T00:00:00.000Z" {
		t.Errorf("resetsAt %q, want 2026-05-01", got)
	}
}

func TestClosureTypes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.do("GET", "/v1/closure-types", h.acme.Key, nil)
	want(t, r, http.StatusOK, "")
	types := list(r.data(), "closureTypes")
	if len(types) != 4 {
		t.Fatalf("%d closure types, want 4", len(types))
	}
	requireComment := 0
	for _, ct := range types {
		if ct.(map[string]any)["requireComment"] == true {
			requireComment++
		}
	}
	if requireComment != 2 {
		t.Errorf("%d types require a comment, want 2", requireComment)
	}

	r = h.do("GET", "/v1/closure-types", h.nordlicht.Key, nil)
	want(t, r, http.StatusOK, "")
	if got := list(r.data(), "closureTypes"); got == nil || len(got) != 0 {
		t.Errorf("closureTypes %v, want []", r.data()["closureTypes"])
	}
}

func TestTags(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.do("GET", "/v1/tags", h.acme.Key, nil)
	want(t, r, http.StatusOK, "")
	var tags []string
	for _, tag := range list(r.data(), "tags") {
		tags = append(tags, tag.(string))
	}
	wantTags := []string{"billing", "hardware", "installation", "plumbing", "shipping", "urgent"}
	if !slices.Equal(tags, wantTags) {
		t.Errorf("tags %v, want %v", tags, wantTags)
	}

	h.createSession(map[string]any{"sessionTags": []string{"zebra", "alpha", "billing"}})
	r = h.do("GET", "/v1/tags", h.acme.Key, nil)
	tags = tags[:0]
	for _, tag := range list(r.data(), "tags") {
		tags = append(tags, tag.(string))
	}
	if !slices.IsSorted(tags) || !slices.Contains(tags, "zebra") || !slices.Contains(tags, "alpha") || len(tags) != 8 {
		t.Errorf("tags %v, want 8 sorted unique tags with alpha and zebra", tags)
	}
	if int(num(r.data(), "total")) != len(tags) {
		t.Errorf("total %v, want %d", r.data()["total"], len(tags))
	}

	r = h.do("GET", "/v1/tags", h.nordlicht.Key, nil)
	if got := list(r.data(), "tags"); got == nil || len(got) != 0 {
		t.Errorf("tags %v, want []", r.data()["tags"])
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		period, from       string
		total, completed   int
		cancelled, expired int
		ratings            int
		average            float64
	}{
		// The fixture has 6 sessions today, one 3 days ago (Monday, this
		// ISO week) and one 40 days ago.
		{"day", "2026-03-12T00:00:00.000Z", 6, 2, 1, 1, 2, 4.5},
		{"week", "2026-03-09T00:00:00.000Z", 7, 3, 1, 1, 3, 4},
		{"month", "2026-03-01T00:00:00.000Z", 7, 3, 1, 1, 3, 4},
		{"", "2026-03-01T00:00:00.000Z", 7, 3, 1, 1, 3, 4},
	}
	for _, tt := range tests {
		path := "/v1/stats"
		if tt.period != "" {
			path += "?period=" + tt.period
		}
		r := h.do("GET", path, h.acme.Key, nil)
		want(t, r, http.StatusOK, "")
		d := r.data()
		if str(d, "from") != tt.from || str(d, "to") != "2026-03-12T15:30:00.000Z" {
			t.Errorf("%s: from %s to %s", path, str(d, "from"), str(d, "to"))
		}
		sessions := obj(d, "sessions")
		got := []int{int(num(sessions, "total")), int(num(sessions, "completed")),
			int(num(sessions, "cancelled")), int(num(sessions, "expired"))}
		if !slices.Equal(got, []int{tt.total, tt.completed, tt.cancelled, tt.expired}) {
			t.Errorf("%s: sessions %v", path, sessions)
		}
		sat := obj(d, "satisfaction")
		if int(num(sat, "count")) != tt.ratings || num(sat, "average") != tt.average {
			t.Errorf("%s: satisfaction %v, want count %d average %v", path, sat, tt.ratings, tt.average)
		}
		dur := obj(d, "duration")
		if num(dur, "totalSeconds") <= 0 || dur["averageSeconds"] == nil {
			t.Errorf("%s: duration %v, want totals of the completed sessions", path, dur)
		}
		if num(obj(d, "sms"), "sent") <= 0 {
			t.Errorf("%s: sms %v, want the fixture's SMS", path, obj(d, "sms"))
		}
	}

	r := h.do("GET", "/v1/stats?period=day", h.nordlicht.Key, nil)
	want(t, r, http.StatusOK, "")
	d := r.data()
	if obj(d, "duration")["averageSeconds"] != nil || obj(d, "satisfaction")["average"] != nil {
		t.Errorf("empty stats %s, want null averages", r.body)
	}
	if num(obj(d, "sessions"), "total") != 0 || num(obj(d, "sms"), "sent") != 0 {
		t.Errorf("empty stats %s, want zero counts", r.body)
	}

	r = h.do("GET", "/v1/stats?period=year", h.acme.Key, nil)
	want(t, r, http.StatusBadRequest, codeInvalidField)
	if r.message() != "period must be one of: day, week, month" {
		t.Errorf("message %q", r.message())
	}
}

func TestStatsCountNewSessions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	before := h.do("GET", "/v1/stats?period=day", h.acme.Key, nil).data()
	created := h.createSession(nil)
	end := h.do("POST", "/v1/sessions/"+str(created, "id")+"/end", h.acme.Key, nil)
	want(t, end, http.StatusOK, "")
	after := h.do("GET", "/v1/stats?period=day", h.acme.Key, nil).data()

	if num(obj(after, "sessions"), "total") != num(obj(before, "sessions"), "total")+1 {
		t.Errorf("total %v → %v, want one more", obj(before, "sessions"), obj(after, "sessions"))
	}
	if num(obj(after, "sessions"), "completed") != num(obj(before, "sessions"), "completed")+1 {
		t.Errorf("completed %v → %v, want one more", obj(before, "sessions"), obj(after, "sessions"))
	}
	if num(obj(after, "sms"), "sent") != num(obj(before, "sms"), "sent")+1 {
		t.Errorf("sms %v → %v, want one more", obj(before, "sms"), obj(after, "sms"))
	}
}
