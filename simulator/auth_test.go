package simulator

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestAuthFailures(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		name   string
		header string
		status int
		code   string
	}{
		{"missing header", "", http.StatusUnauthorized, codeUnauthorized},
		{"basic scheme", "Basic Zm9vOmJhcg==", http.StatusUnauthorized, codeUnauthorized},
		{"empty bearer", "Bearer ", http.StatusUnauthorized, codeUnauthorized},
		{"unknown key", "Bearer gc_live_00000000000000000000000000000000", http.StatusUnauthorized, codeInvalidAPIKey},
		{"revoked key", "Bearer " + h.revoked.Key, http.StatusUnauthorized, codeAPIKeyRevoked},
		{"deleted organization", "Bearer " + h.orphan.Key, http.StatusNotFound, codeOrgNotFound},
		{"lower-case scheme", "bearer " + h.acme.Key, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do("GET", "/v1/credits", "", nil, "Authorization", tt.header)
			want(t, r, tt.status, tt.code)
		})
	}
}

func TestOrphanKeyOrgNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.do("POST", "/v1/sessions", h.orphan.Key, map[string]any{"clientPhone": "+33612345678", "agentId": "x"})
	want(t, r, http.StatusNotFound, codeOrgNotFound)
	if r.message() != "Organization not found" {
		t.Errorf("message %q", r.message())
	}
	r = h.do("GET", "/v1/appointments/available-slots?agentId=x&date=2026-03-20", h.orphan.Key, nil)
	want(t, r, http.StatusNotFound, codeOrgNotFound)
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, WithRateLimit(3, time.Minute))
	reset := strconv.FormatInt(testStart.Truncate(time.Minute).Add(time.Minute).Unix(), 10)

	for i := range 3 {
		r := h.do("GET", "/v1/credits", h.acme.Key, nil)
		want(t, r, http.StatusOK, "")
		if got := r.header.Get("X-RateLimit-Limit"); got != "3" {
			t.Errorf("limit header %q, want 3", got)
		}
		if got := r.header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(2-i) {
			t.Errorf("remaining header %q, want %d", got, 2-i)
		}
		if got := r.header.Get("X-RateLimit-Reset"); got != reset {
			t.Errorf("reset header %q, want %s", got, reset)
		}
	}

	r := h.do("POST", "/v1/sessions", h.acme.Key, map[string]any{})
	want(t, r, http.StatusTooManyRequests, codeRateLimited)
	if got := r.header.Get("Retry-After"); got != "60" {
		t.Errorf("Retry-After %q, want 60 (the window ends at 15:31:00)", got)
	}
	if got := r.header.Get("X-RateLimit-Remaining"); got != "0" {
		t.Errorf("remaining header %q, want 0", got)
	}

	// Other keys have their own windows.
	want(t, h.do("GET", "/v1/credits", h.bistro.Key, nil), http.StatusOK, "")

	h.clock.Advance(30 * time.Second)
	r = h.do("GET", "/v1/credits", h.acme.Key, nil)
	want(t, r, http.StatusTooManyRequests, codeRateLimited)
	if got := r.header.Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After %q, want 30", got)
	}

	h.clock.Advance(30 * time.Second)
	r = h.do("GET", "/v1/credits", h.acme.Key, nil)
	want(t, r, http.StatusOK, "")
	if got := r.header.Get("X-RateLimit-Remaining"); got != "2" {
		t.Errorf("remaining after the window reset %q, want 2", got)
	}
}

func TestRateLimitHeadersOnErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, r := range []result{
		h.do("GET", "/v1/credits", "", nil),
		h.do("GET", "/v1/sessions/nope", h.acme.Key, nil),
		h.do("GET", "/v1/nothing-here", h.acme.Key, nil),
	} {
		if r.header.Get("X-RateLimit-Limit") != "600" {
			t.Errorf("status %d: X-RateLimit-Limit %q, want 600", r.status, r.header.Get("X-RateLimit-Limit"))
		}
	}
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	r := h.do("GET", "/v1/nothing-here", h.acme.Key, nil)
	want(t, r, http.StatusNotFound, codeNotFound)

	r = h.do("PUT", "/v1/sessions", h.acme.Key, nil)
	want(t, r, http.StatusMethodNotAllowed, codeMethodNotAllowed)
	if got := r.header.Get("Allow"); got != "GET, POST" {
		t.Errorf("Allow %q, want \"GET, POST\"", got)
	}

	r = h.do("DELETE", "/v1/sessions/abc/end", h.acme.Key, nil)
	want(t, r, http.StatusMethodNotAllowed, codeMethodNotAllowed)
	if got := r.header.Get("Allow"); got != "POST" {
		t.Errorf("Allow %q, want POST", got)
	}

	// Paths outside /v1 and /_sim/ are not the API.
	r = h.do("GET", "/healthz", "", nil)
	want(t, r, http.StatusNotFound, codeNotFound)
}

func TestMalformedJSON(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, body := range []string{"{", "[1,2]", "null", `"text"`, ""} {
		r := h.do("POST", "/v1/sessions", h.acme.Key, body)
		want(t, r, http.StatusBadRequest, codeInvalidJSON)
	}
	r := h.do("PATCH", "/v1/webhooks/x", h.acme.Key, "{not json")
	want(t, r, http.StatusBadRequest, codeInvalidJSON)

	big := make([]byte, maxBodyBytes+10)
	r = h.do("POST", "/v1/sessions", h.acme.Key, big)
	want(t, r, http.StatusRequestEntityTooLarge, codeRequestTooLarge)
}
