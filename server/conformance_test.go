package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jonboulle/clockwork"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	"github.com/groundcam/groundcam-gateway/internal/contracttest"
	"github.com/groundcam/groundcam-gateway/simulator"
)

// conformanceStart is the simulators' fake clock start, a Thursday
// afternoon.
var conformanceStart = time.Date(2026, 3, 12, 15, 30, 0, 0, time.UTC)

// conformanceSeed is the fixture seed of both simulators.
const conformanceSeed = 42

// conformanceHeaders are the response headers that must match.
var conformanceHeaders = []string{
	"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After", "Allow",
}

// rateLimitHeaders are the headers that a response the gateway makes
// without calling the upstream cannot carry.
var rateLimitHeaders = []string{
	"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After",
}

// TestConformanceREST sends one scripted sequence of REST requests, which
// covers the 30 operations and their documented errors, to two simulators
// with the same seed and clock: once directly, and once through the
// gateway's REST face. The statuses, headers and bodies must be the same,
// and every response of the gateway must meet the contract. Set
// CONFORMANCE_DUMP to part of a step name to log both responses of the
// matching steps.
func TestConformanceREST(t *testing.T) {
	t.Parallel()
	validator := contracttest.Load(t)
	receiver := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(receiver.Close)

	direct := newConformanceTarget(t, "simulator", receiver, false)
	viaGateway := newConformanceTarget(t, "gateway", receiver, true)
	script := conformanceScript(receiver.URL + "/hooks/groundcam")

	want := direct.run(t, script)
	got := viaGateway.run(t, script)
	if len(want) != len(got) {
		t.Fatalf("the runs made %d and %d exchanges; the script diverged", len(want), len(got))
	}
	logExchanges(t, os.Getenv("CONFORMANCE_DUMP"), want, got)

	gaps := map[string]bool{}
	wantNorm, gotNorm := newNormalizer(), newNormalizer()
	for i := range want {
		compareExchanges(t, want[i], got[i], wantNorm, gotNorm)
		checkContract(t, validator, got[i], gaps)
	}
	for gap := range gaps {
		t.Logf("contract gap (the contract does not declare what the upstream sends): %s", gap)
	}
	checkCoverage(t, viaGateway.sim)
}

// logExchanges logs both responses of the steps whose name contains filter,
// to read what the comparison saw. An empty filter logs nothing.
func logExchanges(t *testing.T, filter string, want, got []exchange) {
	t.Helper()
	if filter == "" {
		return
	}
	for i := range got {
		if strings.Contains(got[i].step, filter) {
			t.Logf("%s\n  simulator %d %s\n  gateway   %d %s",
				got[i].step, want[i].status, want[i].body, got[i].status, got[i].body)
		}
	}
}

// checkCoverage fails t unless the gateway reached every operation of the
// HTTP rules at least once.
func checkCoverage(t *testing.T, sim *simulator.Server) {
	t.Helper()
	routes, err := upstream.LoadRoutes()
	if err != nil {
		t.Fatalf("load routes: %v", err)
	}
	calls := sim.Calls()
	for _, r := range routes.All() {
		if calls[r.Name()] == 0 {
			t.Errorf("the script never reached %s through the gateway", r.Name())
		}
	}
}

// conformanceTarget is one side of the comparison: a fresh simulator, and
// the base URL that REST requests go to, the simulator itself or a gateway
// in front of it.
type conformanceTarget struct {
	name    string
	sim     *simulator.Server
	simURL  string
	restURL string
	clock   *clockwork.FakeClock
	client  *http.Client
	keys    map[string]string
	// vars holds the values captured from earlier responses.
	vars map[string]string
}

// newConformanceTarget starts a simulator on a fake clock and, when
// viaGateway is set, a gateway in front of it without a response cache.
func newConformanceTarget(
	t *testing.T,
	name string,
	receiver *httptest.Server,
	viaGateway bool,
) *conformanceTarget {
	t.Helper()
	clock := clockwork.NewFakeClockAt(conformanceStart)
	sim, err := simulator.New(
		simulator.WithClock(clock),
		simulator.WithSeed(conformanceSeed),
		simulator.WithWebhookClient(receiver.Client()),
	)
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	simSrv := httptest.NewServer(sim)
	target := &conformanceTarget{
		name: name, sim: sim, simURL: simSrv.URL, restURL: simSrv.URL, clock: clock,
		client: &http.Client{Timeout: 30 * time.Second}, vars: map[string]string{},
	}
	t.Cleanup(func() {
		target.client.CloseIdleConnections()
		simSrv.Close()
		sim.Close()
	})

	keys := sim.Keys()
	target.keys = map[string]string{
		"acme": keys[0].Key, "bistro": keys[1].Key, "nordlicht": keys[2].Key,
		"revoked": keys[3].Key, "orphan": keys[4].Key,
	}
	if !viaGateway {
		return target
	}

	client, err := upstream.New(simSrv.URL)
	if err != nil {
		t.Fatalf("upstream client: %v", err)
	}
	gateway, err := New(Config{
		Upstream: client,
		Logger:   slog.New(slog.DiscardHandler),
		// No tracing, access log or cache: the comparison needs every read
		// to reach the upstream.
		Interceptors: []connect.Interceptor{},
		Cache:        nil,
	})
	if err != nil {
		t.Fatalf("start gateway: %v", err)
	}
	gatewaySrv := httptest.NewServer(gateway)
	t.Cleanup(gatewaySrv.Close)
	target.restURL = gatewaySrv.URL
	return target
}

// exchange is one REST request and what came back.
type exchange struct {
	step   string
	req    *http.Request
	res    *http.Response
	status int
	header http.Header
	body   []byte
	// forwarded reports whether the request reached the simulator behind
	// the REST face; always true on the simulator side.
	forwarded bool
	// local is the step's declaration that the gateway responds itself.
	local bool
	// note names a known difference that the comparison skips.
	note string
	// contractGap is the step's known break of the contract's schema.
	contractGap string
}

// run executes the script and returns the exchanges of its REST steps.
func (c *conformanceTarget) run(t *testing.T, script []conformanceStep) []exchange {
	t.Helper()
	var out []exchange
	for _, step := range script {
		switch {
		case step.control != "":
			c.control(t, step)
		case step.inflight != nil:
			out = append(out, c.runInflight(t, step)...)
		default:
			out = append(out, c.send(t, step))
		}
	}
	return out
}

// send makes the REST request of a step, captures the values the step
// names and, after a step that the gateway responds to itself, resets the rate
// limit windows so both simulators count the same requests again.
func (c *conformanceTarget) send(t *testing.T, step conformanceStep) exchange {
	t.Helper()
	before := c.upstreamCalls(step)
	ex := c.do(t, step)
	ex.forwarded = c.restURL == c.simURL || c.upstreamCalls(step) > before
	c.capture(t, step, ex)
	if step.local {
		c.control(t, conformanceStep{control: "PATCH /_sim/config", body: `{"rateLimit":{"limit":0}}`})
	}
	return ex
}

// upstreamCalls counts the simulator's /v1 requests by route, leaving out
// the key checks that the gateway's validation makes on its own unless the
// step itself verifies the key. The "total" entry sums the routes.
func (c *conformanceTarget) upstreamCalls(step conformanceStep) int {
	const verify = "GET /v1/auth/verify"
	n := 0
	for route, count := range c.sim.Calls() {
		if route != "total" && (route != verify || step.request == verify || step.keyError) {
			n += count
		}
	}
	return n
}

// do sends the request of a step and reads the response.
func (c *conformanceTarget) do(t *testing.T, step conformanceStep) exchange {
	t.Helper()
	ex, err := c.roundTrip(c.newRequest(t, step), step)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// newRequest builds the REST request of a step.
func (c *conformanceTarget) newRequest(t *testing.T, step conformanceStep) *http.Request {
	t.Helper()
	method, path, _ := strings.Cut(step.request, " ")
	body := c.expand(t, step.body)
	req, err := http.NewRequestWithContext(context.Background(), method, c.restURL+c.expand(t, path),
		strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s: build request: %v", step.name, err)
	}
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	switch key := step.key; {
	case key == "none":
	case strings.Contains(key, " "):
		req.Header.Set("Authorization", key)
	case key == "":
		req.Header.Set("Authorization", "Bearer "+c.keys["acme"])
	case c.keys[key] != "":
		req.Header.Set("Authorization", "Bearer "+c.keys[key])
	default:
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for name, values := range step.header {
		req.Header[name] = values
	}
	return req
}

// roundTrip sends req and reads the response. It is safe to call from any
// goroutine.
func (c *conformanceTarget) roundTrip(req *http.Request, step conformanceStep) (exchange, error) {
	res, err := c.client.Do(req)
	if err != nil {
		return exchange{}, fmt.Errorf("%s on the %s: %w", step.name, c.name, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return exchange{}, fmt.Errorf("%s on the %s: read body: %w", step.name, c.name, err)
	}
	req.Body, _ = req.GetBody()
	return exchange{
		step: step.name, req: req, res: res, status: res.StatusCode, header: res.Header, body: data,
		local: step.local, note: step.note, contractGap: step.contractGap,
	}, nil
}

// runInflight sends a create that waits on the simulator's create delay
// and, while it waits, a second request with the same idempotency key.
func (c *conformanceTarget) runInflight(t *testing.T, step conformanceStep) []exchange {
	t.Helper()
	const delay = time.Second
	c.control(t, conformanceStep{control: "PATCH /_sim/config",
		body: fmt.Sprintf(`{"createDelayMs":%d}`, delay.Milliseconds())})

	type result struct {
		ex  exchange
		err error
	}
	first := make(chan result, 1)
	held := c.newRequest(t, *step.inflight)
	go func() {
		ex, err := c.roundTrip(held, *step.inflight)
		first <- result{ex, err}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatalf("%s: the first request never waited on the %s's clock: %v", step.name, c.name, err)
	}
	second := c.do(t, step)
	second.forwarded = true
	c.clock.Advance(delay)
	done := <-first
	if done.err != nil {
		t.Fatal(done.err)
	}
	done.ex.forwarded = true

	c.control(t, conformanceStep{control: "PATCH /_sim/config", body: `{"createDelayMs":0}`})
	return []exchange{second, done.ex}
}

// control calls the control API of the simulator and fails t unless it
// succeeds.
func (c *conformanceTarget) control(t *testing.T, step conformanceStep) {
	t.Helper()
	method, path, _ := strings.Cut(step.control, " ")
	req, err := http.NewRequestWithContext(context.Background(), method, c.simURL+c.expand(t, path),
		strings.NewReader(c.expand(t, step.body)))
	if err != nil {
		t.Fatalf("control %s: %v", step.control, err)
	}
	res, err := c.client.Do(req)
	if err != nil {
		t.Fatalf("control %s on the %s: %v", step.control, c.name, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("control %s on the %s: status %d: %s", step.control, c.name, res.StatusCode, data)
	}
}

// expand replaces the {name} placeholders of s with captured values.
func (c *conformanceTarget) expand(t *testing.T, s string) string {
	t.Helper()
	for {
		start := strings.Index(s, "{{")
		if start < 0 {
			return s
		}
		end := strings.Index(s[start:], "}}")
		if end < 0 {
			t.Fatalf("unclosed placeholder in %q", s)
		}
		name := s[start+2 : start+end]
		value, ok := c.vars[name]
		if !ok {
			t.Fatalf("placeholder {{%s}} used before a step captured it", name)
		}
		s = s[:start] + value + s[start+end+2:]
	}
}

// capture stores the values that the step names from the response body.
func (c *conformanceTarget) capture(t *testing.T, step conformanceStep, ex exchange) {
	t.Helper()
	if len(step.capture) == 0 {
		return
	}
	var body any
	if err := json.Unmarshal(ex.body, &body); err != nil {
		t.Fatalf("%s on the %s: capture from a body that is not JSON: %s", step.name, c.name, ex.body)
	}
	for name, path := range step.capture {
		value, ok := lookupJSON(body, path)
		if !ok {
			t.Fatalf("%s on the %s: no string at %s to capture as %s in %s", step.name, c.name, path, name, ex.body)
		}
		c.vars[name] = value
	}
}

// lookupJSON returns the string at a dotted path such as
// "data.agents.2.id".
func lookupJSON(v any, path string) (string, bool) {
	for part := range strings.SplitSeq(path, ".") {
		switch node := v.(type) {
		case map[string]any:
			v = node[part]
		case []any:
			var i int
			if _, err := fmt.Sscan(part, &i); err != nil || i < 0 || i >= len(node) {
				return "", false
			}
			v = node[i]
		default:
			return "", false
		}
	}
	s, ok := v.(string)
	return s, ok
}

// compareExchanges fails t for every difference between the simulator's
// response and the gateway's, except the ones a step's note names.
func compareExchanges(t *testing.T, want, got exchange, wantNorm, gotNorm *normalizer) {
	t.Helper()
	var diffs []string
	if got.status != want.status {
		diffs = append(diffs, fmt.Sprintf("status: simulator %d, gateway %d", want.status, got.status))
	}
	if got.forwarded == got.local {
		diffs = append(diffs, fmt.Sprintf("the step declares local=%t but the gateway %s the simulator",
			got.local, map[bool]string{true: "called", false: "did not call"}[got.forwarded]))
	}
	for _, name := range conformanceHeaders {
		w, g := want.header.Get(name), got.header.Get(name)
		if got.local && isRateLimitHeader(name) {
			// The gateway responded without the upstream, so it has no
			// rate-limit state to report.
			if g != "" {
				diffs = append(diffs, fmt.Sprintf("header %s: the gateway responded itself but sent %q", name, g))
			}
			continue
		}
		if w != g {
			diffs = append(diffs, fmt.Sprintf("header %s: simulator %q, gateway %q", name, w, g))
		}
	}
	if w, g := mediaType(want.header), mediaType(got.header); w != g {
		diffs = append(diffs, fmt.Sprintf("Content-Type: simulator %q, gateway %q", w, g))
	}
	diffs = append(diffs, diffBodies(want.body, got.body, wantNorm, gotNorm)...)

	switch {
	case len(diffs) == 0 && got.note != "":
		t.Errorf("%s: marked as a known difference (%s) but the responses match; remove the note", got.step, got.note)
	case len(diffs) > 0 && got.note != "":
		t.Logf("%s: known difference, %s:\n  %s", got.step, got.note, strings.Join(diffs, "\n  "))
	case len(diffs) > 0:
		t.Errorf("%s %s %s:\n  %s\n  simulator body: %s\n  gateway body:   %s", got.step, got.req.Method,
			got.req.URL.RequestURI(), strings.Join(diffs, "\n  "), bytes.TrimSpace(want.body), bytes.TrimSpace(got.body))
	}
}

func isRateLimitHeader(name string) bool {
	for _, h := range rateLimitHeaders {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}

// mediaType returns the media type of the Content-Type header, without
// parameters.
func mediaType(h http.Header) string {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return h.Get("Content-Type")
	}
	return mt
}

// contractRecorder collects the messages that the contract validator
// reports instead of failing the test at once.
type contractRecorder struct {
	testing.TB
	messages []string
}

func (r *contractRecorder) Helper() {}

func (r *contractRecorder) Errorf(format string, args ...any) {
	r.messages = append(r.messages, fmt.Sprintf(format, args...))
}

// checkContract validates the gateway's response against the contract.
// Statuses and paths the contract does not declare are gaps of the
// contract, which the real upstream also responds with. They are collected
// in gaps. Any other violation fails t.
func checkContract(t *testing.T, v *contracttest.Validator, ex exchange, gaps map[string]bool) {
	t.Helper()
	rec := &contractRecorder{TB: t}
	v.Response(rec, ex.req, ex.res, ex.body)
	if ex.contractGap != "" && len(rec.messages) > 0 {
		gaps[ex.contractGap] = true
		return
	}
	for _, msg := range rec.messages {
		if strings.Contains(msg, "is not declared for this operation") ||
			strings.Contains(msg, "no contract operation matches") {
			gaps[msg] = true
			continue
		}
		t.Errorf("%s: the gateway's response breaks the contract: %s", ex.step, msg)
	}
}
