package server

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/protobuf/proto"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

func TestRESTQueryParameters(t *testing.T) {
	t.Parallel()
	h := newRESTHarness(t, restHarnessConfig{})
	cases := []struct {
		name     string
		target   string
		wantPath string
		want     url.Values
	}{
		{"enum and boolean", "/v1/agents?role=agent&includeDisabled=true",
			"/v1/agents", url.Values{"role": {"agent"}, "includeDisabled": {"true"}}},
		{"empty boolean is its default", "/v1/agents?includeDisabled=",
			"/v1/agents", url.Values{}},
		{"first of repeated values", "/v1/agents?role=agent&role=admin",
			"/v1/agents", url.Values{"role": {"agent"}}},
		{"unknown parameters ignored", "/v1/agents?limit=5&foo=bar&metadata.x=1",
			"/v1/agents", url.Values{}},
		{"pagination and metadata filters",
			"/v1/sessions?limit=5&startAfter=Xk9mPq2rT4wZ&metadata.department=support&metadata.odoo_ticket_id=12345",
			"/v1/sessions", url.Values{
				"limit": {"5"}, "startAfter": {"Xk9mPq2rT4wZ"},
				"metadata.department": {"support"}, "metadata.odoo_ticket_id": {"12345"},
			}},
		{"metadata without a key ignored", "/v1/sessions?metadata=x",
			"/v1/sessions", url.Values{}},
		{"metadata with an empty key passed on", "/v1/sessions?metadata.=x",
			"/v1/sessions", url.Values{"metadata.": {"x"}}},
		{"timestamp with an offset", "/v1/sessions?createdAfter=2026-03-01T10:00:00%2B02:00",
			"/v1/sessions", url.Values{"createdAfter": {"2026-03-01T08:00:00.000Z"}}},
		{"timestamp in UTC", "/v1/sessions?updatedAfter=2026-03-12T00:00:00Z",
			"/v1/sessions", url.Values{"updatedAfter": {"2026-03-12T00:00:00.000Z"}}},
		{"url_ttl and a path parameter in the query", "/v1/sessions/abc/screenshots?url_ttl=60&id=other",
			"/v1/sessions/abc/screenshots", url.Values{"url_ttl": {"60"}}},
		{"deliveries filters", "/v1/webhooks/w1/deliveries?status=failed&eventType=session.created&limit=2",
			"/v1/webhooks/w1/deliveries", url.Values{
				"status": {"failed"}, "eventType": {"session.created"}, "limit": {"2"},
			}},
		{"stats period", "/v1/stats?period=week",
			"/v1/stats", url.Values{"period": {"week"}}},
		{"available slots", "/v1/appointments/available-slots?agentId=a1&date=2026-03-20&durationMinutes=10",
			"/v1/appointments/available-slots", url.Values{
				"agentId": {"a1"}, "date": {"2026-03-20"}, "durationMinutes": {"10"},
			}},
	}
	for _, c := range cases {
		res, body := h.do(t, http.MethodGet, c.target, "", nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: status = %d; body %s", c.name, res.StatusCode, body)
			continue
		}
		got := h.last(t)
		if got.path != c.wantPath {
			t.Errorf("%s: upstream path = %q, want %q", c.name, got.path, c.wantPath)
		}
		query, err := url.ParseQuery(got.query)
		if err != nil {
			t.Fatalf("%s: upstream query %q: %v", c.name, got.query, err)
		}
		if !reflect.DeepEqual(query, c.want) {
			t.Errorf("%s: upstream query = %v, want %v", c.name, query, c.want)
		}
	}
}

func TestRESTQueryErrors(t *testing.T) {
	t.Parallel()
	h := newRESTHarness(t, restHarnessConfig{})
	cases := []struct {
		target  string
		message string
	}{
		{"/v1/agents?role=bogus", "role must be one of: owner, admin, agent, viewer"},
		{"/v1/stats?period=year", "period must be one of: day, week, month"},
		{"/v1/sessions?status=", "status must be one of: pending, active, completed, expired, cancelled"},
		{"/v1/webhooks/w1/deliveries?status=lost", "status must be one of: delivered, failed, exhausted"},
		{"/v1/agents?includeDisabled=maybe", `includeDisabled must be true or false, got "maybe"`},
		{"/v1/sessions?limit=abc", `"limit"`},
		{"/v1/sessions?createdAfter=yesterday",
			`createdAfter must be an ISO 8601 timestamp such as 2026-03-12T10:30:00.000Z, got "yesterday"`},
		{"/v1/sessions/abc/screenshots?url_ttl=1.5", `"url_ttl"`},
	}
	for _, c := range cases {
		res, body := h.do(t, http.MethodGet, c.target, "", nil)
		t.Run(c.target, func(t *testing.T) {
			assertError(t, res, body, http.StatusBadRequest, "INVALID_FIELD", c.message)
		})
	}
	if n := len(h.forwarded()); n != 0 {
		t.Errorf("the upstream received %d requests for query strings that do not parse, want 0", n)
	}
	if n := h.keyChecks(); n != 1 {
		t.Errorf("the gateway verified the key %d times, want 1", n)
	}
}

func TestRESTQueryParserKeepsPathFields(t *testing.T) {
	t.Parallel()
	msg := &groundcamv1.GetSessionScreenshotsRequest{Id: "from-path"}
	filter := utilities.NewDoubleArray([][]string{{"id"}})
	err := restQueryParser{}.Parse(msg, url.Values{"id": {"from-query"}, "url_ttl": {"120"}}, filter)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if msg.GetId() != "from-path" {
		t.Errorf("id = %q, want from-path", msg.GetId())
	}
	if msg.GetUrlTtl() != 120 {
		t.Errorf("url_ttl = %d, want 120", msg.GetUrlTtl())
	}
}

func FuzzRESTQueryParser(f *testing.F) {
	for _, seed := range []string{
		"limit=5&startAfter=x", "metadata.a=1&metadata.=2", "createdAfter=2026-03-01T10:00:00%2B02:00",
		"status=&status=pending", "%zz=1", "metadata.a.b=c", "updatedAfter=9999-99-99",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, query string) {
		values, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		for _, msg := range []proto.Message{
			&groundcamv1.ListSessionsRequest{}, &groundcamv1.ListAgentsRequest{},
			&groundcamv1.ListWebhookDeliveriesRequest{},
		} {
			// Only the absence of a panic is checked; errors are expected.
			_ = restQueryParser{}.Parse(msg, values, nil)
		}
	})
}
