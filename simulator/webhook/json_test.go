package webhook_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/groundcam/groundcam-gateway/internal/contracttest"
	"github.com/groundcam/groundcam-gateway/internal/testutil"
	"github.com/groundcam/groundcam-gateway/simulator/webhook"
)

func TestDeliveryJSON(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 3, 12, 14, 10, 8, 123456789, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		del  webhook.Delivery
		want string
	}{
		{
			name: "pending with nulls",
			del: webhook.Delivery{
				ID: "Ev4tYs8uWx2v", EventType: "session.created", Status: webhook.StatusFailed,
				MaxAttempts: 3, DeadlineAt: created.Add(15 * time.Minute), CreatedAt: created,
				Payload: webhook.Envelope{Event: "session.created", Timestamp: created},
			},
			want: `{"id":"Ev4tYs8uWx2v","eventType":"session.created","status":"failed","httpStatus":null,` +
				`"attempts":0,"maxAttempts":3,"lastError":null,"lastAttemptAt":null,"nextAttemptAt":null,` +
				`"deadlineAt":"2026-03-12T13:25:08.123Z","createdAt":"2026-03-12T13:10:08.123Z",` +
				`"payload":{"event":"session.created","timestamp":"2026-03-12T13:10:08.123Z","data":{}}}`,
		},
		{
			name: "failed with retry",
			del: webhook.Delivery{
				ID: "Ev4tYs8uWx2v", EventType: "session.created", Status: webhook.StatusFailed,
				HTTPStatus: ptr(502), Attempts: 1, MaxAttempts: 3, LastError: ptr("HTTP 502"),
				LastAttemptAt: ptr(created), NextAttemptAt: ptr(created.Add(time.Minute)),
				DeadlineAt: created.Add(15 * time.Minute), CreatedAt: created,
				Payload: webhook.Envelope{Event: "session.created", Timestamp: created,
					Data: map[string]string{"id": "Lb2vYs8uWx2v"}},
			},
			want: `{"id":"Ev4tYs8uWx2v","eventType":"session.created","status":"failed","httpStatus":502,` +
				`"attempts":1,"maxAttempts":3,"lastError":"HTTP 502","lastAttemptAt":"2026-03-12T13:10:08.123Z",` +
				`"nextAttemptAt":"2026-03-12T13:11:08.123Z","deadlineAt":"2026-03-12T13:25:08.123Z",` +
				`"createdAt":"2026-03-12T13:10:08.123Z","payload":{"event":"session.created",` +
				`"timestamp":"2026-03-12T13:10:08.123Z","data":{"id":"Lb2vYs8uWx2v"}}}`,
		},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.del)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if string(got) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func TestTestResultJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		res  webhook.TestResult
		want string
	}{
		{webhook.TestResult{Success: true, HTTPStatus: ptr(200), DeliveryID: "Ev9kLm3nPq7r"},
			`{"success":true,"httpStatus":200,"deliveryId":"Ev9kLm3nPq7r","error":null}`},
		{webhook.TestResult{HTTPStatus: ptr(500), DeliveryID: "Ev4tYs8uWx2v"},
			`{"success":false,"httpStatus":500,"deliveryId":"Ev4tYs8uWx2v","error":null}`},
		{webhook.TestResult{DeliveryID: "Ev1aBc5dEf9g", Error: ptr("fetch failed")},
			`{"success":false,"httpStatus":null,"deliveryId":"Ev1aBc5dEf9g","error":"fetch failed"}`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.res)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("got %s, want %s", got, tt.want)
		}
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	t.Parallel()
	in := `{"event":"session.completed","timestamp":"2026-02-14T11:45:30+01:00","data":{"id":"x"}}`
	var env webhook.Envelope
	if err := json.Unmarshal([]byte(in), &env); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event":"session.completed","timestamp":"2026-02-14T10:45:30.000Z","data":{"id":"x"}}`
	if string(out) != want {
		t.Errorf("got %s, want %s", out, want)
	}
	if err := json.Unmarshal([]byte(`{"event":"x","timestamp":"yesterday","data":{}}`), &env); err == nil {
		t.Error("an invalid timestamp was accepted")
	}
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	body := []byte(`{"event":"webhook.test"}`)
	// Computed independently: printf '1773324321.{"event":"webhook.test"}' |
	// openssl dgst -sha256 -hmac whsec_abc
	const want = "sha256=6810616bf3185968431f2770b2fd39cb83def301bbb58a5c0be9dcaa6faf1fe9"
	sig := webhook.Sign("whsec_abc", 1773324321, body)
	if sig != want {
		t.Errorf("Sign = %s, want %s", sig, want)
	}
	tests := []struct {
		name, secret, ts string
		body             []byte
		sig              string
		want             bool
	}{
		{"valid", "whsec_abc", "1773324321", body, sig, true},
		{"wrong secret", "whsec_abd", "1773324321", body, sig, false},
		{"wrong timestamp", "whsec_abc", "1773324322", body, sig, false},
		{"changed body", "whsec_abc", "1773324321", []byte(`{"event":"webhook.tesT"}`), sig, false},
		{"bad timestamp", "whsec_abc", "soon", body, sig, false},
		{"no prefix", "whsec_abc", "1773324321", body, sig[len("sha256="):], false},
	}
	for _, tt := range tests {
		if got := webhook.Verify(tt.secret, tt.ts, tt.body, tt.sig); got != tt.want {
			t.Errorf("%s: Verify = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestContractShapes checks the JSON of recorded deliveries and test results
// against the contract's listWebhookDeliveries and testWebhook responses.
func TestContractShapes(t *testing.T) {
	t.Parallel()
	v := contracttest.Load(t)
	rcv := newReceiver(t, http.StatusBadGateway)
	d := newDispatcher(t, clockwork.NewRealClock(), rcv)

	d.Send(rcv.target("wh1"), "session.created", sessionData)
	d.Wait()
	res := d.Test(t.Context(), rcv.target("wh1"), map[string]string{"message": "test"})
	page := d.List("wh1", webhook.Filter{Limit: 1})

	deliveries := map[string]any{"data": map[string]any{
		"deliveries": page.Deliveries,
		"pagination": map[string]any{"limit": 1, "hasMore": page.HasMore, "nextCursor": page.NextCursor},
	}}
	checkContract(t, v, "/v1/webhooks/wh1/deliveries", http.MethodGet, deliveries)
	checkContract(t, v, "/v1/webhooks/wh1/test", http.MethodPost, map[string]any{"data": res})
}

// checkContract serves body as a 200 JSON response to method and path and
// validates the exchange.
func checkContract(t *testing.T, v *contracttest.Validator, path, method string, body any) {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(raw)
	}))
	defer srv.Close()

	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, got := testutil.Do(t, srv.Client(), req)
	v.Response(t, req, res, got)
}
