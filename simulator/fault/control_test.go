package fault_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/groundcam/groundcam-gateway/internal/testutil"
	"github.com/groundcam/groundcam-gateway/simulator/fault"
)

func TestAddValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rule fault.Rule
		want string // substring of the error
	}{
		{"relative path", fault.Rule{Path: "v1/sessions", Status: 503}, "invalid path"},
		{"empty path", fault.Rule{Status: 503}, "invalid path"},
		{"star inside", fault.Rule{Path: "/v1/*/x", Status: 503}, "invalid path"},
		{"bad method", fault.Rule{Method: "GE T", Path: "/", Status: 503}, "invalid method"},
		{"negative times", fault.Rule{Path: "/", Times: -1, Status: 503}, "invalid times"},
		{"status too low", fault.Rule{Path: "/", Status: 99}, "invalid status"},
		{"status too high", fault.Rule{Path: "/", Status: 600}, "invalid status"},
		{"body without status", fault.Rule{Path: "/", Body: "x", Latency: time.Second}, "need a status"},
		{"bad header name", fault.Rule{Path: "/", Status: 429, Header: map[string]string{"Retry After": "1"}}, "invalid header name"},
		{"bad header value", fault.Rule{Path: "/", Status: 429, Header: map[string]string{"Retry-After": "1\r\nX: y"}}, "invalid value of header"},
		{"negative latency", fault.Rule{Path: "/", Latency: -time.Second, Status: 503}, "invalid latencyMs"},
		{"negative slow body", fault.Rule{Path: "/", SlowBody: -time.Second}, "invalid slowBodyMs"},
		{"negative truncate", fault.Rule{Path: "/", Truncate: -1}, "invalid truncateAfter"},
		{"chunk without slow body", fault.Rule{Path: "/", ChunkSize: 4, Status: 503}, "chunkSize needs slowBodyMs"},
		{"reset and hang", fault.Rule{Path: "/", Reset: true, Hang: true}, "reset and hang cannot be combined"},
		{"reset with status", fault.Rule{Path: "/", Reset: true, Status: 503}, "send no response"},
		{"truncate and malformed", fault.Rule{Path: "/", Truncate: 3, Malformed: true}, "cannot be combined"},
		{"no effect", fault.Rule{Path: "/"}, "at least one effect"},
	}
	inj := fault.New()
	for _, tt := range tests {
		id, err := inj.Add(tt.rule)
		if err == nil {
			t.Errorf("%s: Add accepted the rule as %s", tt.name, id)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q does not contain %q", tt.name, err, tt.want)
		}
	}
	if rules := inj.Rules(); len(rules) != 0 {
		t.Errorf("rejected rules were added: %+v", rules)
	}
}

func TestRuleJSON(t *testing.T) {
	t.Parallel()
	rule := fault.Rule{Method: "GET", Path: "/v1/*", Times: 2, Latency: 1500 * time.Millisecond,
		SlowBody: 20 * time.Millisecond, ChunkSize: 8, Status: 429, Header: map[string]string{"Retry-After": "3"}}
	b, err := json.Marshal(rule)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"method":"GET","path":"/v1/*","times":2,"status":429,"header":{"Retry-After":"3"},` +
		`"chunkSize":8,"latencyMs":1500,"slowBodyMs":20}`
	if string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	var back fault.Rule
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Latency != rule.Latency || back.SlowBody != rule.SlowBody || back.Path != rule.Path ||
		back.Header["Retry-After"] != "3" {
		t.Errorf("round trip gave %+v, want %+v", back, rule)
	}
}

func TestRemoveAndClear(t *testing.T) {
	t.Parallel()
	inj := fault.New()
	first, _ := inj.Add(fault.Rule{Path: "/a", Status: 500})
	second, _ := inj.Add(fault.Rule{Path: "/b", Status: 500})
	if first == second {
		t.Fatalf("two rules got the same ID %s", first)
	}
	if !inj.Remove(first) {
		t.Error("Remove of an existing rule returned false")
	}
	if inj.Remove(first) {
		t.Error("second Remove of the same rule returned true")
	}
	if rules := inj.Rules(); len(rules) != 1 || rules[0].ID != second {
		t.Errorf("rules %+v, want only %s", rules, second)
	}
	inj.Clear()
	if rules := inj.Rules(); len(rules) != 0 {
		t.Errorf("rules after Clear: %+v", rules)
	}
}

// call sends one control API request and returns the status and decoded body.
func call(t *testing.T, srv *httptest.Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, raw := testutil.Do(t, srv.Client(), req)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: body %s is not JSON: %v", method, path, raw, err)
		}
	}
	return res.StatusCode, out
}

// errorMessage returns error.message of an error body.
func errorMessage(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	msg, _ := e["message"].(string)
	return msg
}

func TestControlAPI(t *testing.T) {
	t.Parallel()
	inj := fault.New()
	mux := http.NewServeMux()
	mux.Handle("/_sim/faults/", http.StripPrefix("/_sim/faults", inj.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	const base = "/_sim/faults/"

	status, body := call(t, srv, http.MethodPost, base, `{"path":"/v1/credits","status":503,"latencyMs":250,"method":"get"}`)
	if status != http.StatusCreated {
		t.Fatalf("add: status %d, body %v", status, body)
	}
	id, _ := body["id"].(string)
	if id == "" || body["latencyMs"] != float64(250) || body["method"] != "GET" {
		t.Errorf("add returned %v, want the rule with its id, latencyMs 250 and method GET", body)
	}

	status, body = call(t, srv, http.MethodGet, base, "")
	rules, _ := body["rules"].([]any)
	if status != http.StatusOK || len(rules) != 1 {
		t.Fatalf("list: status %d, body %v", status, body)
	}
	if got := inj.Rules()[0]; got.Latency != 250*time.Millisecond || got.Status != 503 {
		t.Errorf("stored rule %+v, want latency 250ms and status 503", got)
	}

	errorCases := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"invalid rule", http.MethodPost, base, `{"path":"/x","status":42}`, 400, "invalid status 42"},
		{"unknown field", http.MethodPost, base, `{"path":"/x","statuz":503}`, 400, "statuz"},
		{"not JSON", http.MethodPost, base, `path=/x`, 400, "invalid rule JSON"},
		{"two objects", http.MethodPost, base, `{"path":"/x","status":503}{}`, 400, "one rule object"},
		{"unknown id", http.MethodDelete, base + "fault-999", "", 404, "fault-999"},
		{"method on list", http.MethodPut, base, "", 405, "PUT"},
		{"method on rule", http.MethodGet, base + id, "", 405, "GET"},
	}
	for _, tt := range errorCases {
		status, body := call(t, srv, tt.method, tt.path, tt.body)
		if status != tt.status || !strings.Contains(errorMessage(body), tt.want) {
			t.Errorf("%s: got %d %v, want %d with a message containing %q", tt.name, status, body, tt.status, tt.want)
		}
	}

	if status, _ := call(t, srv, http.MethodDelete, base+id, ""); status != http.StatusNoContent {
		t.Errorf("delete: status %d, want 204", status)
	}
	call(t, srv, http.MethodPost, base, `{"path":"/a","status":500}`)
	call(t, srv, http.MethodPost, base, `{"path":"/b","status":500}`)
	if status, _ := call(t, srv, http.MethodDelete, base, ""); status != http.StatusNoContent {
		t.Errorf("clear: status %d, want 204", status)
	}
	if rules := inj.Rules(); len(rules) != 0 {
		t.Errorf("rules after clear: %+v", rules)
	}
}
