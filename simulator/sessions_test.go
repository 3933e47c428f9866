package simulator

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestCreateSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sophie := h.agentID(h.acme, "Sophie Bernard")

	r := h.do("POST", "/v1/sessions", h.acme.Key, map[string]any{
		"clientPhone": "+33 6 12 34 56 78", "clientName": "Jean Dupont", "agentId": sophie,
		"crmId": "TICKET-1", "ticketUrl": "https://crm.example.com/1", "language": "en", "ttlMinutes": 10,
		"metadata":    map[string]any{"department": "support", "priority": 2, "vip": true},
		"sessionTags": []string{"installation"},
	})
	want(t, r, http.StatusCreated, "")
	d := r.data()
	if str(d, "status") != "pending" || str(d, "mode") != "camera" {
		t.Errorf("status %q mode %q", str(d, "status"), str(d, "mode"))
	}
	if sms := obj(d, "sms"); str(sms, "status") != "sent" || str(sms, "to") != "+33612345678" {
		t.Errorf("sms %v, want sent to the phone without spaces", sms)
	}
	if str(d, "createdAt") != "2026-03-12T15:30:00.000Z" || str(d, "expiresAt") != "2026-03-12T15:40:00.000Z" {
		t.Errorf("createdAt %s expiresAt %s, want a 10-minute link", str(d, "createdAt"), str(d, "expiresAt"))
	}
	id := str(d, "id")
	if !strings.HasSuffix(str(d, "agentUrl"), "/dashboard/lobbies/"+id) || !strings.Contains(str(d, "clientUrl"), "/l/"+id+"?token=") {
		t.Errorf("urls %s %s", str(d, "clientUrl"), str(d, "agentUrl"))
	}

	got := h.do("GET", "/v1/sessions/"+id, h.acme.Key, nil)
	want(t, got, http.StatusOK, "")
	s := got.data()
	if str(s, "clientPhone") != "+33612345678" || str(s, "agentName") != "Sophie Bernard" || str(s, "source") != "api" {
		t.Errorf("session %s", got.body)
	}
	if str(s, "clientUrl") != str(d, "clientUrl") {
		t.Errorf("clientUrl %q, want the create response's %q", str(s, "clientUrl"), str(d, "clientUrl"))
	}
	if meta := obj(s, "metadata"); num(meta, "priority") != 2 || meta["vip"] != true {
		t.Errorf("metadata %v", meta)
	}
	for _, field := range []string{"startedAt", "endedAt", "duration", "clientRating", "notes", "clientEmail"} {
		if v, present := s[field]; !present || v != nil {
			t.Errorf("%s = %v (present %v), want null", field, v, present)
		}
	}

	credits := h.do("GET", "/v1/credits", h.acme.Key, nil).data()
	if got := num(obj(credits, "subscription"), "remaining"); got != 99999 {
		t.Errorf("subscription remaining %v, want 99999 after one session", got)
	}
}

func TestCreateSessionScreenMode(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.do("POST", "/v1/sessions", h.acme.Key, map[string]any{
		"agentId": h.agentID(h.acme, "Lucas Petit"), "mode": "screen", "clientEmail": "jean@email.example",
	})
	want(t, r, http.StatusCreated, "")
	if sms := obj(r.data(), "sms"); str(sms, "status") != "skipped" || sms["to"] != nil {
		t.Errorf("sms %v, want skipped without to", sms)
	}
	if str(r.data(), "mode") != "screen" || str(r.data(), "clientEmail") != "jean@email.example" {
		t.Errorf("data %s", r.body)
	}

	// Screen mode never sends an SMS, even when asked and even without SMS.
	r = h.do("POST", "/v1/sessions", h.nordlicht.Key, map[string]any{
		"agentId": h.agentID(h.nordlicht, "Felix Wagner"), "mode": "screen",
		"clientPhone": "+4915112345678", "sendSms": true,
	})
	want(t, r, http.StatusCreated, "")
	if str(obj(r.data(), "sms"), "status") != "skipped" {
		t.Errorf("sms %v, want skipped", obj(r.data(), "sms"))
	}
}

func TestCreateSessionValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sophie := h.agentID(h.acme, "Sophie Bernard")
	bigValue := strings.Repeat("x", 4100)
	manyKeys := map[string]any{}
	for i := range 21 {
		manyKeys[fmt.Sprintf("k%d", i)] = i
	}
	tests := []struct {
		name    string
		body    map[string]any
		status  int
		code    string
		message string
	}{
		{"missing phone", map[string]any{"agentId": sophie}, 400, codeMissingField, "clientPhone is required"},
		{"invalid phone", map[string]any{"agentId": sophie, "clientPhone": "0612345678"}, 400, codeInvalidPhone,
			"Invalid phone format. Use international format (e.g., +33612345678)"},
		{"phone with letters", map[string]any{"agentId": sophie, "clientPhone": "+33abc"}, 400, codeInvalidPhone, ""},
		{"phone not a string", map[string]any{"agentId": sophie, "clientPhone": 33612345678}, 400, codeInvalidField,
			"clientPhone must be a string"},
		{"missing agent", map[string]any{"clientPhone": "+33612345678"}, 400, codeMissingField, "agentId is required"},
		{"invalid mode", map[string]any{"agentId": sophie, "mode": "video"}, 400, codeInvalidField,
			"mode must be one of: camera, screen"},
		{"invalid language", map[string]any{"agentId": sophie, "clientPhone": "+33612345678", "language": "xx"},
			400, codeInvalidField, "language must be one of: fr, en, es, de, it, pt, nl, pl, ru, zh"},
		{"invalid ttl", map[string]any{"agentId": sophie, "clientPhone": "+33612345678", "ttlMinutes": 30},
			400, codeInvalidField, "ttlMinutes must be one of: 5, 10, 15, 20"},
		{"invalid email", map[string]any{"agentId": sophie, "clientPhone": "+33612345678", "clientEmail": "nope"},
			400, codeInvalidEmail, ""},
		{"sendSms not boolean", map[string]any{"agentId": sophie, "clientPhone": "+33612345678", "sendSms": "yes"},
			400, codeInvalidField, "sendSms must be a boolean (true or false)"},
		{"tags not strings", map[string]any{"agentId": sophie, "clientPhone": "+33612345678", "sessionTags": []int{1}},
			400, codeInvalidField, "sessionTags must be an array of strings"},
		{"nested metadata", map[string]any{"agentId": sophie, "clientPhone": "+33612345678",
			"metadata": map[string]any{"a": map[string]any{"b": 1}}}, 400, codeInvalidMetadata, ""},
		{"array metadata value", map[string]any{"agentId": sophie, "clientPhone": "+33612345678",
			"metadata": map[string]any{"a": []int{1}}}, 400, codeInvalidMetadata, ""},
		{"null metadata value", map[string]any{"agentId": sophie, "clientPhone": "+33612345678",
			"metadata": map[string]any{"a": nil}}, 400, codeInvalidMetadata, ""},
		{"metadata not an object", map[string]any{"agentId": sophie, "clientPhone": "+33612345678",
			"metadata": "x"}, 400, codeInvalidMetadata, ""},
		{"21 metadata keys", map[string]any{"agentId": sophie, "clientPhone": "+33612345678",
			"metadata": manyKeys}, 400, codeInvalidMetadata, "metadata has 21 keys; at most 20 are allowed"},
		{"metadata over 4 KB", map[string]any{"agentId": sophie, "clientPhone": "+33612345678",
			"metadata": map[string]any{"a": bigValue}}, 400, codeInvalidMetadata, ""},
		{"unknown agent", map[string]any{"agentId": "nobody", "clientPhone": "+33612345678"}, 403,
			codeAgentNotMember, "Agent is not a member of this organization"},
		{"disabled agent", map[string]any{"agentId": h.agentID(h.acme, "Hugo Moreau"), "clientPhone": "+33612345678"},
			403, codeAgentDisabled, "Agent account is disabled"},
		{"viewer agent", map[string]any{"agentId": h.agentID(h.acme, "Emma Leroy"), "clientPhone": "+33612345678"},
			403, codeInsufficientRole, "Agent role 'viewer' cannot create sessions"},
		{"other organization's agent", map[string]any{"agentId": h.agentID(h.bistro, "Julie Martin"),
			"clientPhone": "+33612345678"}, 403, codeAgentNotMember, ""},
		{"SMS failure", map[string]any{"agentId": sophie, "clientPhone": smsFailurePhone}, 500, codeSMSFailed,
			"Failed to send SMS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do("POST", "/v1/sessions", h.acme.Key, tt.body)
			want(t, r, tt.status, tt.code)
			if tt.message != "" && r.message() != tt.message {
				t.Errorf("message %q, want %q", r.message(), tt.message)
			}
		})
	}

	// Nothing was created and no credit was spent.
	credits := h.do("GET", "/v1/credits", h.acme.Key, nil).data()
	if got := num(credits, "available"); got != 101000 {
		t.Errorf("available %v, want 101000", got)
	}
}

func TestCreateSessionCredits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	julie := h.agentID(h.bistro, "Julie Martin")
	body := map[string]any{"agentId": julie, "clientPhone": "+33612345678"}

	// One subscription credit, then one pack credit, then none.
	for _, left := range [][2]float64{{0, 1}, {0, 0}} {
		want(t, h.do("POST", "/v1/sessions", h.bistro.Key, body), http.StatusCreated, "")
		c := h.do("GET", "/v1/credits", h.bistro.Key, nil).data()
		if num(obj(c, "subscription"), "remaining") != left[0] || num(obj(c, "pack"), "remaining") != left[1] {
			t.Errorf("credits %v, want subscription %v pack %v", c, left[0], left[1])
		}
	}
	r := h.do("POST", "/v1/sessions", h.bistro.Key, body)
	want(t, r, http.StatusPaymentRequired, codeInsufficientCredits)
	if r.message() != "Insufficient credits" {
		t.Errorf("message %q", r.message())
	}
}

func TestCreateSessionSMSNotConfigured(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	felix := h.agentID(h.nordlicht, "Felix Wagner")
	r := h.do("POST", "/v1/sessions", h.nordlicht.Key, map[string]any{"agentId": felix, "clientPhone": "+4915112345678"})
	want(t, r, http.StatusInternalServerError, codeSMSNotConfigured)
	if r.message() != "SMS is not configured for this organization" {
		t.Errorf("message %q", r.message())
	}

	r = h.do("POST", "/v1/sessions", h.nordlicht.Key, map[string]any{
		"agentId": felix, "clientPhone": "+4915112345678", "sendSms": false,
	})
	want(t, r, http.StatusCreated, "")
	if str(obj(r.data(), "sms"), "status") != "skipped" {
		t.Errorf("sms %v, want skipped", obj(r.data(), "sms"))
	}
}
