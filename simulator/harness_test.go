package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"github.com/groundcam/groundcam-gateway/internal/contracttest"
	"github.com/groundcam/groundcam-gateway/internal/testutil"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testStart is the fake clock's start: a Thursday afternoon.
var testStart = time.Date(2026, 3, 12, 15, 30, 0, 0, time.UTC)

// harness is a simulator on a fake clock behind a real HTTP server, with
// every response checked against the contract.
type harness struct {
	t      *testing.T
	sim    *Server
	srv    *httptest.Server
	client *http.Client
	clock  *clockwork.FakeClock
	v      *contracttest.Validator

	acme, bistro, nordlicht, revoked, orphan DemoKey
}

// newHarness starts a simulator with the options after the fake clock.
func newHarness(t *testing.T, opts ...Option) *harness {
	t.Helper()
	v := contracttest.Load(t)
	clock := clockwork.NewFakeClockAt(testStart)
	sim, err := New(append([]Option{WithClock(clock)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(sim)
	h := &harness{t: t, sim: sim, srv: srv, client: srv.Client(), clock: clock, v: v}
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
		h.client.CloseIdleConnections()
	})
	keys := sim.Keys()
	h.acme, h.bistro, h.nordlicht, h.revoked, h.orphan = keys[0], keys[1], keys[2], keys[3], keys[4]
	return h
}

// result is a response with its decoded body.
type result struct {
	status int
	header http.Header
	body   []byte
	// json is the decoded body.
	json map[string]any
}

// data returns the body's "data" object.
func (r result) data() map[string]any {
	d, _ := r.json["data"].(map[string]any)
	return d
}

// code returns the body's error code.
func (r result) code() string {
	e, _ := r.json["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// message returns the body's error message.
func (r result) message() string {
	e, _ := r.json["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

// do sends a request and checks the response against the contract. The
// key "" sends no Authorization header. A nil body sends none, a []byte or
// string is sent as is, and anything else is encoded as JSON. Headers are
// name/value pairs.
func (h *harness) do(method, path, key string, body any, headers ...string) result {
	h.t.Helper()
	return h.doContext(context.Background(), method, path, key, body, headers...)
}

// doContext is [harness.do] with a context.
func (h *harness) doContext(ctx context.Context, method, path, key string, body any, headers ...string) result {
	h.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			h.t.Fatalf("encode body: %v", err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, h.srv.URL+path, bytes.NewReader(raw))
	if err != nil {
		h.t.Fatalf("new request: %v", err)
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, got := testutil.Do(h.t, h.client, req)
	r := result{status: res.StatusCode, header: res.Header, body: got}
	if err := json.Unmarshal(got, &r.json); err != nil {
		h.t.Errorf("%s %s → %d: body is not a JSON object: %s", method, path, res.StatusCode, got)
	}
	if strings.HasPrefix(req.URL.Path, "/v1/") {
		h.checkContract(req, res, r)
	}
	return r
}

// checkContract validates a /v1 exchange. A status that the operation does
// not declare, such as a 429 where none is listed, and a path outside the
// contract must still carry the Error shape. The all-failed bulk 400 must
// carry the results shape that the operation's description gives.
func (h *harness) checkContract(req *http.Request, res *http.Response, r result) {
	h.t.Helper()
	for _, name := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
		if res.Header.Get(name) == "" {
			h.t.Errorf("%s %s → %d: header %s missing", req.Method, req.URL.Path, r.status, name)
		}
	}
	capture := &captureTB{TB: h.t}
	h.v.Response(capture, req, res, r.body)
	for _, msg := range capture.messages() {
		switch {
		case strings.Contains(msg, "is not declared for this operation"),
			strings.Contains(msg, "no contract operation matches"):
			h.checkErrorShape(req, r)
		case req.URL.Path == "/v1/sessions/bulk" && r.status == http.StatusBadRequest && r.data() != nil:
			checkBulkShape(h.t, r)
		default:
			h.t.Errorf("contract: %s\nbody: %s", msg, r.body)
		}
	}
}

// checkErrorShape requires {"error": {"message", "code"}} with both set.
func (h *harness) checkErrorShape(req *http.Request, r result) {
	h.t.Helper()
	if r.status < 400 || r.code() == "" || r.message() == "" || len(r.json) != 1 {
		h.t.Errorf("%s %s → %d: want the Error shape, got %s", req.Method, req.URL.Path, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		h.t.Errorf("%s %s → %d: Content-Type %q, want application/json", req.Method, req.URL.Path, r.status, ct)
	}
}

// checkBulkShape requires the bulk results and summary objects.
func checkBulkShape(t *testing.T, r result) {
	t.Helper()
	results, okResults := r.data()["results"].([]any)
	summary, okSummary := r.data()["summary"].(map[string]any)
	if !okResults || !okSummary || len(r.data()) != 2 {
		t.Fatalf("bulk body: want data.results and data.summary, got %s", r.body)
	}
	if int(summary["total"].(float64)) != len(results) {
		t.Errorf("bulk summary total %v, want %d", summary["total"], len(results))
	}
}

// captureTB records the validator's errors instead of failing the test.
type captureTB struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (c *captureTB) Helper() {}

func (c *captureTB) Errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, fmt.Sprintf(format, args...))
}

func (c *captureTB) messages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.msgs
}

// want fails the test unless the result has the status and, when code is
// not "", the error code.
func want(t *testing.T, r result, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if code != "" && r.code() != code {
		t.Fatalf("error code %q, want %q; body %s", r.code(), code, r.body)
	}
}

// str returns a string field of a decoded object.
func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// num returns a numeric field of a decoded object.
func num(m map[string]any, key string) float64 {
	f, _ := m[key].(float64)
	return f
}

// list returns an array field of a decoded object.
func list(m map[string]any, key string) []any {
	l, _ := m[key].([]any)
	return l
}

// obj returns an object field of a decoded object.
func obj(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

// agentID returns the id of the organization's agent with the display name.
func (h *harness) agentID(key DemoKey, name string) string {
	h.t.Helper()
	r := h.do("GET", "/v1/agents?includeDisabled=true", key.Key, nil)
	want(h.t, r, http.StatusOK, "")
	for _, a := range list(r.data(), "agents") {
		if str(a.(map[string]any), "displayName") == name {
			return str(a.(map[string]any), "id")
		}
	}
	h.t.Fatalf("no agent named %q", name)
	return ""
}

// createSession creates a session of the Acme organization for Sophie
// Bernard, with extra fields merged into a default camera request.
func (h *harness) createSession(extra map[string]any) map[string]any {
	h.t.Helper()
	body := map[string]any{"clientPhone": "+33612345678", "agentId": h.agentID(h.acme, "Sophie Bernard")}
	for k, v := range extra {
		body[k] = v
	}
	r := h.do("POST", "/v1/sessions", h.acme.Key, body)
	want(h.t, r, http.StatusCreated, "")
	return r.data()
}

// control sends a control API request and returns the response.
func (h *harness) control(method, path string, body any) result {
	h.t.Helper()
	return h.do(method, path, "", body)
}
