package simulator

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	untouched := str(h.createSession(map[string]any{"ttlMinutes": 5}), "id")
	waited := str(h.createSession(map[string]any{"ttlMinutes": 5}), "id")
	active := str(h.createSession(map[string]any{"ttlMinutes": 10}), "id")
	want(t, h.control("POST", "/_sim/sessions/"+waited+"/join", nil), http.StatusOK, "")
	want(t, h.control("POST", "/_sim/sessions/"+active+"/admit", nil), http.StatusOK, "")

	h.clock.Advance(5*time.Minute - time.Millisecond)
	if s := h.do("GET", "/v1/sessions/"+untouched, h.acme.Key, nil).data(); str(s, "status") != "pending" {
		t.Fatalf("status %q just before expiresAt, want pending", str(s, "status"))
	}
	h.clock.Advance(time.Millisecond)
	if s := h.do("GET", "/v1/sessions/"+untouched, h.acme.Key, nil).data(); str(s, "status") != "expired" {
		t.Errorf("untouched session %q, want expired", str(s, "status"))
	}
	s := h.do("GET", "/v1/sessions/"+waited, h.acme.Key, nil).data()
	if str(s, "status") != "completed" || str(s, "endedAt") != "2026-03-12T15:35:00.000Z" {
		t.Errorf("session whose client joined: %v, want completed at expiresAt", s)
	}

	h.clock.Advance(5 * time.Minute)
	s = h.do("GET", "/v1/sessions/"+active, h.acme.Key, nil).data()
	if str(s, "status") != "completed" || num(s, "duration") != 600 {
		t.Errorf("active session %v, want completed after 600 s", s)
	}
	if str(s, "updatedAt") != "2026-03-12T15:40:00.000Z" {
		t.Errorf("updatedAt %s, want the sweep time", str(s, "updatedAt"))
	}
}

func TestControlSessionActions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := str(h.createSession(nil), "id")
	base := "/_sim/sessions/" + id

	r := h.control("POST", base+"/join", map[string]any{"clientName": "Jean"})
	want(t, r, http.StatusOK, "")
	if str(r.data(), "clientName") != "Jean" || str(r.data(), "status") != "pending" {
		t.Errorf("join %s", r.body)
	}
	want(t, h.control("POST", base+"/screenshots", nil), http.StatusConflict, codeInvalidStatus)
	want(t, h.control("POST", base+"/rate", map[string]any{"rating": 4}), http.StatusConflict, codeInvalidStatus)

	h.clock.Advance(time.Minute)
	r = h.control("POST", base+"/admit", nil)
	want(t, r, http.StatusOK, "")
	if str(r.data(), "status") != "active" || str(r.data(), "startedAt") != "2026-03-12T15:31:00.000Z" ||
		str(r.data(), "admittedAt") != "2026-03-12T15:31:00.000Z" {
		t.Errorf("admit %s", r.body)
	}
	want(t, h.control("POST", base+"/admit", nil), http.StatusConflict, codeInvalidStatus)

	r = h.control("POST", base+"/screenshots", map[string]any{
		"tags": []string{"defect"}, "location": map[string]any{"latitude": 48.85, "longitude": 2.35},
	})
	want(t, r, http.StatusOK, "")
	want(t, h.control("POST", base+"/screenshots", map[string]any{"location": map[string]any{"latitude": 100}}),
		http.StatusBadRequest, codeInvalidField)
	want(t, h.control("POST", base+"/recordings", map[string]any{"duration": 120, "size": 1024}), http.StatusOK, "")
	want(t, h.control("POST", base+"/recordings", map[string]any{"size": -1}), http.StatusBadRequest, codeInvalidField)
	for _, bad := range []any{map[string]any{"rating": 6}, map[string]any{"rating": 0}, map[string]any{}, map[string]any{"rating": 4.5}} {
		want(t, h.control("POST", base+"/rate", bad), http.StatusBadRequest, codeInvalidField)
	}
	want(t, h.control("POST", base+"/rate", map[string]any{"rating": 4, "comment": "Good"}), http.StatusOK, "")

	s := h.do("GET", "/v1/sessions/"+id, h.acme.Key, nil).data()
	if num(s, "screenshotsCount") != 1 || num(s, "recordingsCount") != 1 || num(s, "clientRating") != 4 ||
		str(s, "clientComment") != "Good" {
		t.Errorf("session %v", s)
	}
	shots := h.do("GET", "/v1/sessions/"+id+"/screenshots", h.acme.Key, nil).data()
	shot := list(shots, "screenshots")[0].(map[string]any)
	if num(obj(shot, "location"), "latitude") != 48.85 || str(shot, "timestamp") != "2026-03-12T15:31:00.000Z" {
		t.Errorf("screenshot %v", shot)
	}
	want(t, h.control("PATCH", base+"/screenshots/nope", map[string]any{"tags": []string{}}), http.StatusNotFound, codeNotFound)
	want(t, h.control("PATCH", base+"/screenshots/"+str(shot, "id"), map[string]any{}), http.StatusBadRequest, codeMissingField)

	want(t, h.control("POST", base+"/expire", nil), http.StatusOK, "")
	if s := h.do("GET", "/v1/sessions/"+id, h.acme.Key, nil).data(); str(s, "status") != "expired" {
		t.Errorf("status %q after expire, want expired", str(s, "status"))
	}
	want(t, h.control("POST", base+"/expire", nil), http.StatusConflict, codeInvalidStatus)

	r = h.control("DELETE", base, nil)
	want(t, r, http.StatusOK, "")
	want(t, h.do("GET", "/v1/sessions/"+id, h.acme.Key, nil), http.StatusNotFound, codeNotFound)
	want(t, h.control("POST", base+"/join", nil), http.StatusNotFound, codeNotFound)
	want(t, h.control("GET", "/_sim/nothing", nil), http.StatusNotFound, codeNotFound)
	want(t, h.control("POST", base+"/join", "{"), http.StatusBadRequest, codeInvalidJSON)
}

func TestControlClock(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := str(h.createSession(map[string]any{"ttlMinutes": 5}), "id")

	r := h.control("GET", "/_sim/clock", nil)
	want(t, r, http.StatusOK, "")
	if str(r.data(), "now") != "2026-03-12T15:30:00.000Z" || r.data()["adjustable"] != true {
		t.Errorf("clock %s", r.body)
	}
	r = h.control("POST", "/_sim/clock/advance", map[string]any{"duration": "5m"})
	want(t, r, http.StatusOK, "")
	if str(r.data(), "now") != "2026-03-12T15:35:00.000Z" {
		t.Errorf("after advance %s", r.body)
	}
	// The advance ran the sweep: the session expired without any /v1 call.
	h.sim.mu.Lock()
	status := h.sim.st.sessions[id].status
	h.sim.mu.Unlock()
	if status != "expired" {
		t.Errorf("status %q right after the advance, want expired", status)
	}
	want(t, h.control("POST", "/_sim/clock/advance", map[string]any{"seconds": 30}), http.StatusOK, "")
	for _, bad := range []any{map[string]any{}, map[string]any{"seconds": -1}, map[string]any{"duration": "soon"}} {
		want(t, h.control("POST", "/_sim/clock/advance", bad), http.StatusBadRequest, "")
	}
	want(t, h.control("POST", "/_sim/sweep", nil), http.StatusOK, "")
}

func TestControlClockNotAdjustable(t *testing.T) {
	t.Parallel()
	sim, err := New(WithClock(realClockOnly{}))
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	srv := newTestServer(t, sim)
	res, err := srv.Client().Post(srv.URL+"/_sim/clock/advance", "application/json", strings.NewReader(`{"seconds":1}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusConflict {
		t.Errorf("status %d, want 409 on a real clock", res.StatusCode)
	}
}

func TestControlCallsAndRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.do("GET", "/v1/credits", h.acme.Key, nil, "traceparent", "00-0af7651916cd7e5b2f6c1f2a1a3b4c5d-b7ad6b7169203331-01")
	h.do("GET", "/v1/sessions/abc", h.acme.Key, nil)
	h.do("GET", "/v1/sessions/def", h.acme.Key, nil)
	h.do("GET", "/v1/unknown", h.acme.Key, nil)

	calls := h.sim.Calls()
	if calls["GET /v1/credits"] != 1 || calls["GET /v1/sessions/{id}"] != 2 || calls["GET (unmatched)"] != 1 ||
		calls[CallsTotalKey] != 4 {
		t.Errorf("calls %v", calls)
	}
	if got := h.sim.LastHeaders("GET /v1/credits").Get("traceparent"); !strings.HasPrefix(got, "00-0af7") {
		t.Errorf("traceparent %q", got)
	}

	r := h.control("GET", "/_sim/calls", nil)
	want(t, r, http.StatusOK, "")
	if num(obj(r.data(), "calls"), "GET /v1/sessions/{id}") != 2 {
		t.Errorf("control calls %s", r.body)
	}
	r = h.control("GET", "/_sim/requests?route="+"GET%20/v1/credits", nil)
	want(t, r, http.StatusOK, "")
	reqs := list(r.data(), "requests")
	if len(reqs) != 1 {
		t.Fatalf("requests %s", r.body)
	}
	header := obj(reqs[0].(map[string]any), "header")
	auth := list(header, "Authorization")[0].(string)
	if strings.Contains(auth, h.acme.Key) || !strings.HasPrefix(auth, "Bearer "+h.acme.Key[:16]) {
		t.Errorf("Authorization %q, want only the key prefix", auth)
	}

	want(t, h.control("DELETE", "/_sim/calls", nil), http.StatusOK, "")
	if calls := h.sim.Calls(); calls[CallsTotalKey] != 0 || len(h.sim.Requests("")) != 0 {
		t.Errorf("after reset: %v", calls)
	}
}

func TestControlConfigAndCredits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.control("PATCH", "/_sim/config", map[string]any{
		"createDelayMs": 1500, "rateLimit": map[string]any{"limit": 2, "windowSeconds": 10},
	})
	want(t, r, http.StatusOK, "")
	if num(r.data(), "createDelayMs") != 1500 || num(obj(r.data(), "rateLimit"), "limit") != 2 ||
		num(obj(r.data(), "rateLimit"), "windowSeconds") != 10 {
		t.Errorf("config %s", r.body)
	}
	h.do("GET", "/v1/credits", h.acme.Key, nil)
	h.do("GET", "/v1/credits", h.acme.Key, nil)
	want(t, h.do("GET", "/v1/credits", h.acme.Key, nil), http.StatusTooManyRequests, codeRateLimited)
	want(t, h.control("PATCH", "/_sim/config", map[string]any{"createDelayMs": -1}), http.StatusBadRequest, codeInvalidField)
	want(t, h.control("PATCH", "/_sim/config", "{"), http.StatusBadRequest, codeInvalidJSON)

	r = h.control("POST", "/_sim/organizations/"+h.bistro.OrganizationID+"/credits",
		map[string]any{"subscriptionRemaining": 0, "pack": 0})
	want(t, r, http.StatusOK, "")
	if num(r.data(), "available") != 0 {
		t.Errorf("credits %s", r.body)
	}
	want(t, h.control("POST", "/_sim/organizations/org_nope/credits", map[string]any{"pack": 1}),
		http.StatusNotFound, codeOrgNotFound)
	want(t, h.control("POST", "/_sim/organizations/"+h.bistro.OrganizationID+"/credits", map[string]any{"pack": -1}),
		http.StatusBadRequest, codeInvalidField)
}

func TestControlKeysAndReset(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.control("GET", "/_sim/keys", nil)
	want(t, r, http.StatusOK, "")
	keys := list(r.data(), "keys")
	if len(keys) != 5 || str(keys[0].(map[string]any), "key") != h.acme.Key {
		t.Errorf("keys %s", r.body)
	}
	id := str(h.createSession(nil), "id")
	want(t, h.control("POST", "/_sim/reset", nil), http.StatusOK, "")
	want(t, h.do("GET", "/v1/sessions/"+id, h.acme.Key, nil), http.StatusNotFound, codeNotFound)
	if h.sim.Keys()[0] != h.acme {
		t.Errorf("reset changed the demo keys")
	}
	want(t, h.control("GET", "/_sim/", nil), http.StatusOK, "")
}

func TestFixtureDeterministic(t *testing.T) {
	t.Parallel()
	a, b := newHarness(t), newHarness(t)
	if a.sim.Keys()[0] != b.sim.Keys()[0] {
		t.Errorf("same seed, different keys")
	}
	ra := a.do("GET", "/v1/sessions?limit=100", a.acme.Key, nil)
	rb := b.do("GET", "/v1/sessions?limit=100", b.acme.Key, nil)
	if string(ra.body) != string(rb.body) {
		t.Errorf("same seed and clock, different sessions")
	}
	if str(a.createSession(nil), "id") != str(b.createSession(nil), "id") {
		t.Errorf("same requests, different ids")
	}

	// docs/simulator.md lists the keys of the default seed.
	if got := a.sim.Keys()[0].Key; got != "gc_live_34c15c331bcde7ff0c3b9c56a80d01ea" {
		t.Errorf("default-seed Acme key %s differs from the documented one", got)
	}

	c := newHarness(t, WithSeed(7))
	if c.sim.Keys()[0].Key == a.sim.Keys()[0].Key {
		t.Errorf("different seeds, same key")
	}
}

func TestFaultsWrapAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.control("POST", "/_sim/faults/", map[string]any{
		"method": "GET", "path": "/v1/credits", "status": 503, "times": 1,
		"body": `{"error":{"message":"down","code":"UNAVAILABLE"}}`,
	})
	if r.status != http.StatusCreated {
		t.Fatalf("add fault: %d %s", r.status, r.body)
	}
	res, err := h.client.Get(h.srv.URL + "/v1/credits")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d, want the injected 503", res.StatusCode)
	}
	want(t, h.do("GET", "/v1/credits", h.acme.Key, nil), http.StatusOK, "")
	if h.sim.Calls()["GET /v1/credits"] != 2 {
		t.Errorf("calls %v, want both requests counted", h.sim.Calls())
	}
	if len(h.sim.Faults().Rules()) != 0 {
		t.Errorf("rules %v, want the counted rule gone", h.sim.Faults().Rules())
	}
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	t.Parallel()
	if _, err := New(WithClock(nil), WithLogger(nil)); err == nil ||
		!strings.Contains(err.Error(), "clock") || !strings.Contains(err.Error(), "logger") {
		t.Errorf("New: %v, want errors naming the clock and the logger", err)
	}
}
