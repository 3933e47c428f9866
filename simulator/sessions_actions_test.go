package simulator

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestUpdateSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := str(h.createSession(nil), "id")
	path := "/v1/sessions/" + id

	h.clock.Advance(time.Minute)
	r := h.do("PATCH", path, h.acme.Key, map[string]any{
		"notes": "Leak fixed", "sessionTags": []string{"plumbing"}, "closureTypeName": "Problem resolved",
	})
	want(t, r, http.StatusOK, "")
	d := r.data()
	if str(d, "notes") != "Leak fixed" || str(d, "closureTypeName") != "Problem resolved" ||
		!slices.Equal(list(d, "sessionTags"), []any{"plumbing"}) {
		t.Errorf("session %s", r.body)
	}
	if str(d, "updatedAt") != "2026-03-12T15:31:00.000Z" {
		t.Errorf("updatedAt %s, want the patch time", str(d, "updatedAt"))
	}

	// Null clears, absent keeps.
	r = h.do("PATCH", path, h.acme.Key, map[string]any{"notes": nil, "closureTypeName": nil})
	want(t, r, http.StatusOK, "")
	if r.data()["notes"] != nil || r.data()["closureTypeName"] != nil || len(list(r.data(), "sessionTags")) != 1 {
		t.Errorf("after clearing: %s", r.body)
	}

	tests := []struct {
		name    string
		body    any
		status  int
		code    string
		message string
	}{
		{"no field", map[string]any{}, 400, codeMissingField,
			"At least one field is required: notes, sessionTags, closureTypeName"},
		{"unknown fields only", map[string]any{"status": "completed"}, 400, codeMissingField, ""},
		{"unknown closure type", map[string]any{"closureTypeName": "Unknown type"}, 400, codeInvalidClosureType,
			`Closure type "Unknown type" not found`},
		{"closure needs notes", map[string]any{"closureTypeName": "Escalated"}, 400, codeNotesRequired, ""},
		{"notes not a string", map[string]any{"notes": 5}, 400, codeInvalidField, ""},
		{"tags not an array", map[string]any{"sessionTags": "a"}, 400, codeInvalidField, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do("PATCH", path, h.acme.Key, tt.body)
			want(t, r, tt.status, tt.code)
			if tt.message != "" && r.message() != tt.message {
				t.Errorf("message %q, want %q", r.message(), tt.message)
			}
		})
	}

	r = h.do("PATCH", path, h.acme.Key, map[string]any{"closureTypeName": "Escalated", "notes": "Sent to tier 2"})
	want(t, r, http.StatusOK, "")
	want(t, h.do("PATCH", "/v1/sessions/nope", h.acme.Key, map[string]any{"notes": "x"}), http.StatusNotFound, codeNotFound)
}

func TestCancelSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := str(h.createSession(nil), "id")
	r := h.do("POST", "/v1/sessions/"+id+"/cancel", h.acme.Key, nil)
	want(t, r, http.StatusOK, "")
	if str(r.data(), "status") != "cancelled" {
		t.Errorf("status %q, want cancelled", str(r.data(), "status"))
	}

	tests := []struct {
		status, message string
	}{
		{"cancelled", "Session is already cancelled"},
		{"active", "Cannot cancel an active session. End it instead."},
		{"completed", "Session is already completed"},
		{"expired", "Session has already expired"},
	}
	for _, tt := range tests {
		sid := id
		if tt.status != "cancelled" {
			r := h.do("GET", "/v1/sessions?status="+tt.status+"&limit=1", h.acme.Key, nil)
			sid = ids(r, "sessions")[0]
		}
		r := h.do("POST", "/v1/sessions/"+sid+"/cancel", h.acme.Key, nil)
		want(t, r, http.StatusConflict, codeInvalidStatus)
		if r.message() != tt.message {
			t.Errorf("%s: message %q, want %q", tt.status, r.message(), tt.message)
		}
	}
	want(t, h.do("POST", "/v1/sessions/nope/cancel", h.acme.Key, nil), http.StatusNotFound, codeNotFound)
}

func TestEndSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := str(h.createSession(map[string]any{"ttlMinutes": 20}), "id")
	want(t, h.control("POST", "/_sim/sessions/"+id+"/admit", nil), http.StatusOK, "")
	h.clock.Advance(10 * time.Minute)

	r := h.do("POST", "/v1/sessions/"+id+"/end", h.acme.Key, map[string]any{
		"agentDuration": 600, "clientDuration": 590.5, "closureTypeName": "Problem resolved", "notes": "Done",
	})
	want(t, r, http.StatusOK, "")
	d := r.data()
	if str(d, "status") != "completed" || num(d, "duration") != 600 || num(d, "agentDuration") != 600 ||
		num(d, "clientDuration") != 590.5 || str(d, "endedAt") != "2026-03-12T15:40:00.000Z" {
		t.Errorf("ended session %s", r.body)
	}

	r = h.do("POST", "/v1/sessions/"+id+"/end", h.acme.Key, nil)
	want(t, r, http.StatusConflict, codeInvalidStatus)
	if r.message() != "Session is already completed" {
		t.Errorf("message %q", r.message())
	}

	// A pending session can be ended; null clears notes.
	other := str(h.createSession(nil), "id")
	want(t, h.do("PATCH", "/v1/sessions/"+other, h.acme.Key, map[string]any{"notes": "x"}), http.StatusOK, "")
	r = h.do("POST", "/v1/sessions/"+other+"/end", h.acme.Key, map[string]any{"notes": nil})
	want(t, r, http.StatusOK, "")
	if r.data()["notes"] != nil || r.data()["duration"] != nil {
		t.Errorf("pending session ended: %s, want null notes and duration", r.body)
	}

	third := str(h.createSession(nil), "id")
	tests := []struct {
		body any
		code string
	}{
		{map[string]any{"closureTypeName": "Unknown type"}, codeInvalidClosureType},
		{map[string]any{"closureTypeName": "No resolution"}, codeNotesRequired},
		{map[string]any{"agentDuration": -1}, codeInvalidField},
		{map[string]any{"clientDuration": "long"}, codeInvalidField},
		{"{", codeInvalidJSON},
	}
	for _, tt := range tests {
		want(t, h.do("POST", "/v1/sessions/"+third+"/end", h.acme.Key, tt.body), http.StatusBadRequest, tt.code)
	}
}

func TestResendSMS(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := str(h.createSession(nil), "id")
	for count := 2; count <= 3; count++ {
		r := h.do("POST", "/v1/sessions/"+id+"/resend-sms", h.acme.Key, nil)
		want(t, r, http.StatusOK, "")
		d := r.data()
		if int(num(d, "smsCount")) != count || num(d, "maxSms") != 3 || str(obj(d, "sms"), "status") != "sent" {
			t.Errorf("resend %d: %s", count, r.body)
		}
		if str(d, "id") != id || str(d, "status") != "pending" {
			t.Errorf("resend %d: not the full session: %s", count, r.body)
		}
	}
	r := h.do("POST", "/v1/sessions/"+id+"/resend-sms", h.acme.Key, nil)
	want(t, r, http.StatusTooManyRequests, codeSMSLimitReached)
	if r.message() != "SMS limit reached for this session" {
		t.Errorf("message %q", r.message())
	}

	// A session created without SMS may still get its first one.
	quiet := str(h.createSession(map[string]any{"sendSms": false}), "id")
	r = h.do("POST", "/v1/sessions/"+quiet+"/resend-sms", h.acme.Key, nil)
	want(t, r, http.StatusOK, "")
	if num(r.data(), "smsCount") != 1 {
		t.Errorf("smsCount %v, want 1", r.data()["smsCount"])
	}

	want(t, h.do("POST", "/v1/sessions/"+quiet+"/cancel", h.acme.Key, nil), http.StatusOK, "")
	want(t, h.do("POST", "/v1/sessions/"+quiet+"/resend-sms", h.acme.Key, nil), http.StatusConflict, codeInvalidStatus)

	screen := h.do("POST", "/v1/sessions", h.acme.Key, map[string]any{
		"agentId": h.agentID(h.acme, "Sophie Bernard"), "mode": "screen", "clientEmail": "a@b.example",
	})
	want(t, h.do("POST", "/v1/sessions/"+str(screen.data(), "id")+"/resend-sms", h.acme.Key, nil),
		http.StatusConflict, codeSMSNotApplicable)
	want(t, h.do("POST", "/v1/sessions/nope/resend-sms", h.acme.Key, nil), http.StatusNotFound, codeNotFound)

	// Bistro allows one SMS per session.
	b := h.do("POST", "/v1/sessions", h.bistro.Key, map[string]any{
		"agentId": h.agentID(h.bistro, "Julie Martin"), "clientPhone": "+33612345678",
	})
	want(t, h.do("POST", "/v1/sessions/"+str(b.data(), "id")+"/resend-sms", h.bistro.Key, nil),
		http.StatusTooManyRequests, codeSMSLimitReached)
}

func TestAgentAuthURL(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := str(h.createSession(nil), "id")
	path := "/v1/sessions/" + id + "/agent-auth-url"
	seen := map[string]bool{}
	for range 5 {
		r := h.do("POST", path, h.acme.Key, nil)
		want(t, r, http.StatusCreated, "")
		d := r.data()
		if str(d, "expiresAt") != "2026-03-12T15:35:00.000Z" || str(d, "lobbyId") != id {
			t.Errorf("auth url %s", r.body)
		}
		if seen[str(d, "authUrl")] {
			t.Errorf("authUrl %s repeated; each must be single-use", str(d, "authUrl"))
		}
		seen[str(d, "authUrl")] = true
	}
	r := h.do("POST", path, h.acme.Key, nil)
	want(t, r, http.StatusTooManyRequests, codeTokenRateLimited)
	if r.message() != "Rate limit: max 5 auth URLs per session per hour" {
		t.Errorf("message %q", r.message())
	}

	h.clock.Advance(time.Hour)
	// The session expired meanwhile, so the hour passed but the status blocks.
	r = h.do("POST", path, h.acme.Key, nil)
	want(t, r, http.StatusBadRequest, codeInvalidStatus)
	if r.message() != `Cannot generate auth URL for session with status "expired"` {
		t.Errorf("message %q", r.message())
	}

	active := str(h.createSession(nil), "id")
	want(t, h.control("POST", "/_sim/sessions/"+active+"/admit", nil), http.StatusOK, "")
	want(t, h.do("POST", "/v1/sessions/"+active+"/agent-auth-url", h.acme.Key, nil), http.StatusCreated, "")
	want(t, h.do("POST", "/v1/sessions/nope/agent-auth-url", h.acme.Key, nil), http.StatusNotFound, codeNotFound)
}

func TestAgentAuthURLWindow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := str(h.createSession(map[string]any{"ttlMinutes": 20}), "id")
	want(t, h.control("POST", "/_sim/sessions/"+id+"/admit", nil), http.StatusOK, "")
	path := "/v1/sessions/" + id + "/agent-auth-url"
	for range 5 {
		want(t, h.do("POST", path, h.acme.Key, nil), http.StatusCreated, "")
	}
	h.clock.Advance(10 * time.Minute)
	want(t, h.do("POST", path, h.acme.Key, nil), http.StatusTooManyRequests, codeTokenRateLimited)
}
