package simulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// received is one webhook delivery as the receiver got it.
type received struct {
	header   http.Header
	body     []byte
	event    string
	data     map[string]any
	verified bool
}

// receiver is a TLS webhook endpoint that responds with a fixed status.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	status int
	secret string
	got    []received
	// onEvent, when set before the first delivery, sees each event type.
	onEvent func(event string)
}

// newReceiver starts a TLS endpoint that responds with status.
func newReceiver(t *testing.T, status int) *receiver {
	t.Helper()
	rc := &receiver{status: status}
	rc.srv = httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	// Closing the receiver under the dispatcher's open connections logs
	// handshake errors that are irrelevant to the test.
	rc.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	rc.srv.StartTLS()
	t.Cleanup(rc.srv.Close)
	return rc
}

// serve records one delivery and checks its signature with the secret.
func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var env struct {
		Event string         `json:"event"`
		Data  map[string]any `json:"data"`
	}
	_ = json.Unmarshal(body, &env)

	rc.mu.Lock()
	defer rc.mu.Unlock()
	mac := hmac.New(sha256.New, []byte(rc.secret))
	mac.Write([]byte(r.Header.Get("X-GroundCam-Timestamp") + "." + string(body)))
	expected := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	rc.got = append(rc.got, received{
		header: r.Header.Clone(), body: body, event: env.Event, data: env.Data,
		verified: hmac.Equal([]byte(expected), []byte(r.Header.Get("X-GroundCam-Signature"))),
	})
	if rc.onEvent != nil {
		rc.onEvent(env.Event)
	}
	w.WriteHeader(rc.status)
}

// deliveries returns a copy of the received deliveries.
func (rc *receiver) deliveries() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

// subscribe registers the receiver (with a path suffix) for the events and
// stores the returned secret.
func (h *harness) subscribe(rc *receiver, suffix string, events ...string) string {
	h.t.Helper()
	r := h.do("POST", "/v1/webhooks", h.acme.Key, map[string]any{"url": rc.srv.URL + suffix, "events": events})
	want(h.t, r, http.StatusCreated, "")
	rc.mu.Lock()
	rc.secret = str(r.data(), "secret")
	rc.mu.Unlock()
	return str(r.data(), "id")
}

func TestWebhookRoundTrip(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, http.StatusOK)
	h := newHarness(t, WithWebhookClient(rc.srv.Client()))
	hookID := h.subscribe(rc, "/hooks", "session.created")

	created := h.createSession(map[string]any{"crmId": "WH-1", "clientEmail": "jean@email.example"})
	h.sim.Webhooks().Wait()

	got := rc.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(got))
	}
	d := got[0]
	if !d.verified {
		t.Errorf("signature %q does not verify", d.header.Get("X-GroundCam-Signature"))
	}
	if d.event != "session.created" || d.header.Get("X-GroundCam-Event") != "session.created" {
		t.Errorf("event %q / header %q", d.event, d.header.Get("X-GroundCam-Event"))
	}
	if str(d.data, "id") != str(created, "id") || str(d.data, "source") != "api" || str(d.data, "crmId") != "WH-1" ||
		str(d.data, "clientEmail") != "jean@email.example" || str(d.data, "mode") != "camera" {
		t.Errorf("payload %s", d.body)
	}

	r := h.do("GET", "/v1/webhooks/"+hookID+"/deliveries", h.acme.Key, nil)
	want(t, r, http.StatusOK, "")
	deliveries := list(r.data(), "deliveries")
	if len(deliveries) != 1 {
		t.Fatalf("%d deliveries listed, want 1", len(deliveries))
	}
	first := deliveries[0].(map[string]any)
	if str(first, "status") != "delivered" || num(first, "httpStatus") != 200 ||
		str(first, "id") != d.header.Get("X-GroundCam-Delivery") {
		t.Errorf("delivery %v", first)
	}
}

func TestWebhookRetriesExhausted(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, http.StatusInternalServerError)
	h := newHarness(t, WithWebhookClient(rc.srv.Client()))
	hookID := h.subscribe(rc, "", "session.created")
	h.createSession(nil)
	h.sim.Webhooks().Wait()

	deliveries := func() map[string]any {
		r := h.do("GET", "/v1/webhooks/"+hookID+"/deliveries", h.acme.Key, nil)
		want(t, r, http.StatusOK, "")
		return list(r.data(), "deliveries")[0].(map[string]any)
	}
	d := deliveries()
	if str(d, "status") != "failed" || num(d, "attempts") != 1 || str(d, "nextAttemptAt") != "2026-03-12T15:31:00.000Z" ||
		str(d, "lastError") != "HTTP 500" || num(d, "httpStatus") != 500 {
		t.Fatalf("after the first attempt: %v", d)
	}

	h.clock.Advance(time.Minute)
	h.sim.Webhooks().Wait()
	d = deliveries()
	if str(d, "status") != "failed" || num(d, "attempts") != 2 || str(d, "nextAttemptAt") != "2026-03-12T15:36:00.000Z" {
		t.Fatalf("after the second attempt: %v", d)
	}

	h.clock.Advance(5 * time.Minute)
	h.sim.Webhooks().Wait()
	d = deliveries()
	if str(d, "status") != "exhausted" || num(d, "attempts") != 3 || d["nextAttemptAt"] != nil {
		t.Fatalf("after the last attempt: %v", d)
	}

	got := rc.deliveries()
	if len(got) != 3 {
		t.Fatalf("receiver saw %d attempts, want 3", len(got))
	}
	for _, g := range got {
		if g.header.Get("X-GroundCam-Delivery") != str(d, "id") || !g.verified {
			t.Errorf("attempt delivery %q verified %v", g.header.Get("X-GroundCam-Delivery"), g.verified)
		}
	}
	if got[0].header.Get("X-GroundCam-Timestamp") == got[2].header.Get("X-GroundCam-Timestamp") {
		t.Errorf("retries reuse the timestamp %s", got[0].header.Get("X-GroundCam-Timestamp"))
	}

	r := h.do("GET", "/v1/webhooks/"+hookID+"/deliveries?status=exhausted&eventType=session.created", h.acme.Key, nil)
	if len(list(r.data(), "deliveries")) != 1 {
		t.Errorf("filtered deliveries %s", r.body)
	}
	r = h.do("GET", "/v1/webhooks/"+hookID+"/deliveries?status=delivered", h.acme.Key, nil)
	if len(list(r.data(), "deliveries")) != 0 {
		t.Errorf("delivered deliveries %s, want none", r.body)
	}
}

func TestWebhookTestEndpoint(t *testing.T) {
	t.Parallel()
	ok := newReceiver(t, http.StatusOK)
	failing := newReceiver(t, http.StatusInternalServerError)
	h := newHarness(t, WithWebhookClient(ok.srv.Client()))
	okID := h.subscribe(ok, "/ok", "session.completed")
	failID := h.subscribe(failing, "/fail", "session.completed")

	r := h.do("POST", "/v1/webhooks/"+okID+"/test", h.acme.Key, nil)
	want(t, r, http.StatusOK, "")
	if r.data()["success"] != true || num(r.data(), "httpStatus") != 200 || r.data()["error"] != nil {
		t.Errorf("test %s", r.body)
	}
	got := ok.deliveries()
	if len(got) != 1 || got[0].event != "webhook.test" || str(got[0].data, "webhookId") != okID ||
		str(got[0].data, "organizationId") != h.acme.OrganizationID || !got[0].verified {
		t.Errorf("test delivery %+v", got)
	}

	r = h.do("POST", "/v1/webhooks/"+failID+"/test", h.acme.Key, nil)
	want(t, r, http.StatusOK, "")
	if r.data()["success"] != false || num(r.data(), "httpStatus") != 500 || r.data()["error"] != nil {
		t.Errorf("failed test %s, want success false, httpStatus 500, error null", r.body)
	}

	gone := newReceiver(t, http.StatusOK)
	goneID := h.subscribe(gone, "/gone", "session.completed")
	gone.srv.Close()
	r = h.do("POST", "/v1/webhooks/"+goneID+"/test", h.acme.Key, nil)
	want(t, r, http.StatusOK, "")
	if r.data()["success"] != false || r.data()["httpStatus"] != nil || r.data()["error"] == nil {
		t.Errorf("unreachable test %s, want httpStatus null and an error", r.body)
	}

	want(t, h.do("POST", "/v1/webhooks/nope/test", h.acme.Key, nil), http.StatusNotFound, codeNotFound)
	want(t, h.do("GET", "/v1/webhooks/nope/deliveries", h.acme.Key, nil), http.StatusNotFound, codeNotFound)
	for _, q := range []string{"limit=0", "limit=101", "status=pending", "eventType=session.unknown", "createdAfter=x"} {
		want(t, h.do("GET", "/v1/webhooks/"+okID+"/deliveries?"+q, h.acme.Key, nil), http.StatusBadRequest, codeInvalidField)
	}
	r = h.do("GET", "/v1/webhooks/"+okID+"/deliveries?eventType=webhook.test&limit=1", h.acme.Key, nil)
	if len(list(r.data(), "deliveries")) != 1 {
		t.Errorf("webhook.test deliveries %s", r.body)
	}
}

func TestWebhookCRUD(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.do("POST", "/v1/webhooks", h.acme.Key, map[string]any{
		"url": "https://crm.example.com/hooks", "events": []string{"session.created", "session.completed"},
	})
	want(t, r, http.StatusCreated, "")
	id := str(r.data(), "id")
	secret := str(r.data(), "secret")
	if len(secret) != 64 {
		t.Errorf("secret %q, want 64 hex characters", secret)
	}
	if _, err := hex.DecodeString(secret); err != nil {
		t.Errorf("secret is not hexadecimal: %v", err)
	}

	listed := h.do("GET", "/v1/webhooks", h.acme.Key, nil)
	want(t, listed, http.StatusOK, "")
	hooks := list(listed.data(), "webhooks")
	if len(hooks) != 1 || hooks[0].(map[string]any)["secret"] != nil {
		t.Errorf("webhooks %s: want one, without its secret", listed.body)
	}

	h.clock.Advance(time.Minute)
	r = h.do("PATCH", "/v1/webhooks/"+id, h.acme.Key, map[string]any{"events": []string{"session.cancelled"}, "active": false})
	want(t, r, http.StatusOK, "")
	if r.data()["active"] != false || !slices.Equal(list(r.data(), "events"), []any{"session.cancelled"}) ||
		str(r.data(), "updatedAt") != "2026-03-12T15:31:00.000Z" || str(r.data(), "url") != "https://crm.example.com/hooks" {
		t.Errorf("patched %s", r.body)
	}

	tests := []struct {
		method, path string
		body         any
		status       int
		code         string
		message      string
	}{
		{"POST", "/v1/webhooks", map[string]any{"events": []string{"session.created"}}, 400, codeMissingField, "url is required"},
		{"POST", "/v1/webhooks", map[string]any{"url": "https://a.example"}, 400, codeMissingField, "events is required"},
		{"POST", "/v1/webhooks", map[string]any{"url": "http://a.example", "events": []string{"session.created"}},
			400, codeInvalidURL, "URL must use HTTPS"},
		{"POST", "/v1/webhooks", map[string]any{"url": "not a url", "events": []string{"session.created"}},
			400, codeInvalidURL, ""},
		{"POST", "/v1/webhooks", map[string]any{"url": "https://a.example", "events": []string{"session.unknown"}},
			400, codeInvalidEvent, "Invalid event: session.unknown"},
		{"POST", "/v1/webhooks", map[string]any{"url": "https://a.example", "events": []string{}}, 400, codeInvalidField, ""},
		{"POST", "/v1/webhooks", map[string]any{"url": "https://crm.example.com/hooks", "events": []string{"session.created"}},
			409, codeDuplicateURL, "A webhook with this URL already exists"},
		{"PATCH", "/v1/webhooks/" + id, map[string]any{}, 400, codeMissingField, "At least one field is required: url, events, active"},
		{"PATCH", "/v1/webhooks/" + id, map[string]any{"url": "ftp://a.example"}, 400, codeInvalidURL, "URL must use HTTPS"},
		{"PATCH", "/v1/webhooks/" + id, map[string]any{"events": []string{"nope"}}, 400, codeInvalidEvent, "Invalid event: nope"},
		{"PATCH", "/v1/webhooks/nope", map[string]any{"active": true}, 404, codeNotFound, "Webhook not found"},
		{"DELETE", "/v1/webhooks/nope", nil, 404, codeNotFound, "Webhook not found"},
	}
	for _, tt := range tests {
		r := h.do(tt.method, tt.path, h.acme.Key, tt.body)
		want(t, r, tt.status, tt.code)
		if tt.message != "" && r.message() != tt.message {
			t.Errorf("%s %s: message %q, want %q", tt.method, tt.path, r.message(), tt.message)
		}
	}

	for i := 1; i < maxWebhooksPerOrg; i++ {
		want(t, h.do("POST", "/v1/webhooks", h.acme.Key, map[string]any{
			"url": fmt.Sprintf("https://hooks.example.com/%d", i), "events": []string{"session.created"},
		}), http.StatusCreated, "")
	}
	r = h.do("POST", "/v1/webhooks", h.acme.Key, map[string]any{"url": "https://hooks.example.com/11", "events": []string{"session.created"}})
	want(t, r, http.StatusConflict, codeLimitReached)
	if r.message() != "Maximum number of webhooks reached (10)" {
		t.Errorf("message %q", r.message())
	}

	r = h.do("DELETE", "/v1/webhooks/"+id, h.acme.Key, nil)
	want(t, r, http.StatusOK, "")
	if r.data()["deleted"] != true {
		t.Errorf("delete %s", r.body)
	}
	want(t, h.do("DELETE", "/v1/webhooks/"+id, h.acme.Key, nil), http.StatusNotFound, codeNotFound)
	want(t, h.do("POST", "/v1/webhooks", h.acme.Key, map[string]any{"url": "https://hooks.example.com/11", "events": []string{"session.created"}}),
		http.StatusCreated, "")
}

func TestWebhookInactiveGetsNothing(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, http.StatusOK)
	h := newHarness(t, WithWebhookClient(rc.srv.Client()))
	id := h.subscribe(rc, "", "session.created", "session.cancelled")
	want(t, h.do("PATCH", "/v1/webhooks/"+id, h.acme.Key, map[string]any{"active": false}), http.StatusOK, "")
	h.createSession(nil)
	h.sim.Webhooks().Wait()
	if n := len(rc.deliveries()); n != 0 {
		t.Errorf("inactive webhook got %d deliveries", n)
	}
}

func TestWebhookLoopbackOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.do("POST", "/v1/webhooks", h.acme.Key, map[string]any{
		"url": "https://mycrm.example.com/hooks", "events": []string{"session.created"},
	})
	want(t, r, http.StatusCreated, "")
	r = h.do("POST", "/v1/webhooks/"+str(r.data(), "id")+"/test", h.acme.Key, nil)
	want(t, r, http.StatusOK, "")
	if r.data()["success"] != false || r.data()["httpStatus"] != nil ||
		!strings.Contains(str(r.data(), "error"), "not a loopback address") {
		t.Errorf("test delivery to a public host: %s", r.body)
	}
}

func TestIsLoopbackHost(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"localhost": true, "127.0.0.1": true, "127.8.9.10": true, "::1": true,
		"mycrm.com": false, "10.0.0.1": false, "192.168.1.1": false, "": false, "localhost.example": false,
	} {
		if got := isLoopbackHost(host); got != want {
			t.Errorf("isLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}
