package contracttest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/groundcam/groundcam-gateway/internal/testutil"
)

// recorder is a testing.TB that records Errorf and Skipf calls instead of
// failing the real test; every other method goes to the real test.
type recorder struct {
	testing.TB
	mu      sync.Mutex
	errors  []string
	skipped string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// Skipf records the message and ends the calling goroutine, as testing.T does.
func (r *recorder) Skipf(format string, args ...any) {
	r.mu.Lock()
	r.skipped = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

// exchange serves status and body from a real server, sends method and path
// to it, and returns the request, the response and the body read back.
func exchange(t *testing.T, method, path string, status int, body string) (*http.Request, *http.Response, []byte) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)

	req, err := http.NewRequestWithContext(context.Background(), method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, got := testutil.Do(t, srv.Client(), req)
	return req, res, got
}

// delivery returns a valid WebhookDelivery object; change overrides fields,
// and a nil value in change removes the field.
func delivery(change map[string]any) map[string]any {
	d := map[string]any{
		"id":            "Ev4tYs8uWx2v",
		"eventType":     "session.created",
		"status":        "failed",
		"httpStatus":    502,
		"attempts":      1,
		"maxAttempts":   3,
		"lastError":     "HTTP 502",
		"lastAttemptAt": "2026-03-12T14:10:08.000Z",
		"nextAttemptAt": "2026-03-12T14:11:08.000Z",
		"deadlineAt":    "2026-03-12T14:25:08.000Z",
		"createdAt":     "2026-03-12T14:10:08.000Z",
		"payload": map[string]any{
			"event":     "session.created",
			"timestamp": "2026-03-12T14:10:08.000Z",
			"data":      map[string]any{"id": "Lb2vYs8uWx2v"},
		},
	}
	for k, v := range change {
		if v == nil {
			delete(d, k)
			continue
		}
		d[k] = v
	}
	return d
}

// deliveriesBody wraps deliveries in the listWebhookDeliveries response.
func deliveriesBody(t *testing.T, deliveries ...any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"data": map[string]any{
		"deliveries": deliveries,
		"pagination": map[string]any{"limit": 20, "hasMore": false, "nextCursor": nil},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsonNull is an explicit JSON null inside a delivery override.
var jsonNull = json.RawMessage("null")

func TestResponseCases(t *testing.T) {
	t.Parallel()
	v := Load(t)
	const path = "/v1/webhooks/webhook_abc123/deliveries"
	tests := []struct {
		name   string
		status int
		body   string
		want   []string // substrings of the single expected error; nil means valid
	}{
		{
			name:   "valid",
			status: http.StatusOK,
			body:   deliveriesBody(t, delivery(nil)),
		},
		{
			name:   "null in nullable fields",
			status: http.StatusOK,
			body: deliveriesBody(t, delivery(map[string]any{
				"httpStatus": jsonNull, "lastError": jsonNull, "maxAttempts": jsonNull,
				"nextAttemptAt": jsonNull, "payload": jsonNull,
			})),
		},
		{
			name:   "wrong type",
			status: http.StatusOK,
			body:   deliveriesBody(t, delivery(map[string]any{"attempts": "1"})),
			want:   []string{"GET " + path, "200", "listWebhookDeliveries", "/data/deliveries/0/attempts"},
		},
		{
			name:   "null in non-nullable field",
			status: http.StatusOK,
			body:   deliveriesBody(t, delivery(map[string]any{"eventType": jsonNull})),
			want:   []string{"/data/deliveries/0/eventType"},
		},
		{
			name:   "missing required field",
			status: http.StatusOK,
			body:   deliveriesBody(t, delivery(map[string]any{"status": nil})),
			want:   []string{"/data/deliveries/0", "status"},
		},
		{
			name:   "value outside enum",
			status: http.StatusOK,
			body:   deliveriesBody(t, delivery(map[string]any{"status": "pending"})),
			want:   []string{"/data/deliveries/0/status"},
		},
		{
			name:   "undeclared status",
			status: http.StatusTeapot,
			body:   `{"error":{"message":"teapot","code":"TEAPOT"}}`,
			want:   []string{"GET " + path, "418", "not declared", "200, 400, 401, 404"},
		},
		{
			name:   "declared error status",
			status: http.StatusNotFound,
			body:   `{"error":{"message":"Webhook not found","code":"NOT_FOUND"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, res, body := exchange(t, http.MethodGet, path, tt.status, tt.body)
			rec := &recorder{TB: t}
			v.Response(rec, req, res, body)
			checkErrors(t, rec.errors, tt.want)
		})
	}
}

// checkErrors expects no errors when want is nil, else one error containing
// every string of want.
func checkErrors(t *testing.T, got, want []string) {
	t.Helper()
	for _, msg := range got {
		t.Logf("reported: %s", msg)
	}
	if want == nil {
		if len(got) != 0 {
			t.Errorf("got errors for a valid exchange:\n%s", strings.Join(got, "\n"))
		}
		return
	}
	if len(got) == 0 {
		t.Fatalf("got no error, want one containing %q", want)
	}
	for _, part := range want {
		if !strings.Contains(got[0], part) {
			t.Errorf("error %q does not contain %q", got[0], part)
		}
	}
}

func TestResponseNullableEnum(t *testing.T) {
	t.Parallel()
	v := Load(t)
	body := `{"data":{"id":"org_abc123","name":null,"slug":null,"membersCount":5,` +
		`"plan":{"id":null,"name":null,"status":null},"features":{},"credits":{}}}`
	req, res, got := exchange(t, http.MethodGet, "/v1/organization", http.StatusOK, body)
	rec := &recorder{TB: t}
	v.Response(rec, req, res, got)
	checkErrors(t, rec.errors, nil)
}

func TestResponseUnknownPath(t *testing.T) {
	t.Parallel()
	v := Load(t)
	req, res, body := exchange(t, http.MethodGet, "/v1/nowhere", http.StatusOK, `{}`)
	rec := &recorder{TB: t}
	v.Response(rec, req, res, body)
	checkErrors(t, rec.errors, []string{"GET /v1/nowhere", "no contract operation"})
}

func TestRequestCases(t *testing.T) {
	t.Parallel()
	v := Load(t)
	tests := []struct {
		name string
		body string
		auth bool
		want []string
	}{
		{
			name: "valid",
			body: `{"url":"https://mycrm.example/hooks","events":["session.created"]}`,
			auth: true,
		},
		{
			name: "missing required field",
			body: `{"url":"https://mycrm.example/hooks"}`,
			auth: true,
			want: []string{"POST /v1/webhooks", "createWebhook", "events"},
		},
		{
			name: "unknown event",
			body: `{"url":"https://mycrm.example/hooks","events":["session.exploded"]}`,
			auth: true,
			want: []string{"/events/0"},
		},
		{
			name: "missing credential",
			body: `{"url":"https://mycrm.example/hooks","events":["session.created"]}`,
			want: []string{"POST /v1/webhooks"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/v1/webhooks", nil)
			req.Header.Set("Content-Type", "application/json")
			if tt.auth {
				req.Header.Set("Authorization", "Bearer gc_live_test")
			}
			rec := &recorder{TB: t}
			v.Request(rec, req, []byte(tt.body))
			checkErrors(t, rec.errors, tt.want)
		})
	}
}

func TestOperation(t *testing.T) {
	t.Parallel()
	v := Load(t)
	tests := []struct {
		method, path string
		want         string
	}{
		{http.MethodGet, "/v1/sessions/Xk9mPq2rT4wZ", "getSession"},
		{http.MethodGet, "/sessions/Xk9mPq2rT4wZ", "getSession"},
		{http.MethodPost, "/v1/sessions/bulk", "createSessionsBulk"},
		{http.MethodGet, "/v1/appointments/available-slots", "getAvailableAppointmentSlots"},
		{http.MethodGet, "/v1/appointments/Appt7sLp4Wq2", "getAppointment"},
		{http.MethodGet, "/v1/webhooks/webhook_abc123/deliveries", "listWebhookDeliveries"},
		{"post", "/v1/webhooks/webhook_abc123/test", "testWebhook"},
		{http.MethodGet, "/v1/webhooks", "listWebhooks"},
		{http.MethodGet, "/v1/webhooks/", "listWebhooks"},
		{http.MethodPut, "/v1/webhooks", ""},
		{http.MethodGet, "/v1/sessions/a/b/c", ""},
		{http.MethodGet, "/v2/sessions", ""},
	}
	for _, tt := range tests {
		got, ok := v.Operation(tt.method, tt.path)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Operation(%s, %s) = %q, %v; want %q", tt.method, tt.path, got, ok, tt.want)
		}
	}
}

func TestContractPathMissing(t *testing.T) {
	t.Setenv(EnvContract, t.TempDir()+"/missing.yaml")
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		ContractPath(rec)
		t.Error("ContractPath returned instead of skipping")
	}()
	<-done
	if !strings.Contains(rec.skipped, EnvContract) {
		t.Errorf("skip message %q does not name %s", rec.skipped, EnvContract)
	}
}
