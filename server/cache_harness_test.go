package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jonboulle/clockwork"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/groundcam/groundcam-gateway/adapters/cache"
	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	"github.com/groundcam/groundcam-gateway/internal/testutil"
	"github.com/groundcam/groundcam-gateway/simulator"
	"github.com/groundcam/groundcam-gateway/simulator/fault"
)

// cacheSimStart is the simulator clock's start: a Thursday afternoon, so the
// next morning is a working day with free appointment slots.
var cacheSimStart = time.Date(2026, 3, 12, 15, 30, 0, 0, time.UTC)

// cacheClockStart is the start of the response cache's fake clock.
var cacheClockStart = time.Date(2026, 3, 12, 15, 30, 0, 0, time.UTC)

// cacheUpstream is a simulator on a fake clock behind a real HTTP server.
// Webhook events go to a TLS test server on 127.0.0.1 that replies 200, so
// no test sends traffic anywhere else.
type cacheUpstream struct {
	sim  *simulator.Server
	url  string
	http *http.Client
	// acme and bistro are the demo keys of two organizations.
	acme, bistro simulator.DemoKey
	// hookURL is an HTTPS endpoint on 127.0.0.1 for webhooks.
	hookURL string
}

// startCacheUpstream starts a simulator. wrap, when not nil, wraps the
// simulator's handler, for example to hold requests.
func startCacheUpstream(t *testing.T, wrap func(http.Handler) http.Handler) *cacheUpstream {
	t.Helper()
	hooks := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(hooks.Close)

	sim, err := simulator.New(
		simulator.WithClock(clockwork.NewFakeClockAt(cacheSimStart)),
		simulator.WithWebhookClient(hooks.Client()),
	)
	if err != nil {
		t.Fatalf("simulator.New: %v", err)
	}
	var handler http.Handler = sim
	if wrap != nil {
		handler = wrap(sim)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
	})

	keys := sim.Keys()
	if len(keys) < 2 {
		t.Fatalf("simulator has %d demo keys, want at least 2 organizations", len(keys))
	}
	return &cacheUpstream{
		sim: sim, url: srv.URL, http: srv.Client(),
		acme: keys[0], bistro: keys[1], hookURL: hooks.URL + "/hooks",
	}
}

// calls returns how many requests the simulator received on route, such as
// "GET /v1/sessions/{id}".
func (u *cacheUpstream) calls(route string) int {
	return u.sim.Calls()[route]
}

// fail makes the simulator reply to the next GET of path with status.
func (u *cacheUpstream) fail(t *testing.T, path string, status int) {
	t.Helper()
	u.failMethod(t, http.MethodGet, path, status)
}

// failMethod makes the simulator reply to the next request with method
// and path with status.
func (u *cacheUpstream) failMethod(t *testing.T, method, path string, status int) {
	t.Helper()
	rule := fault.Rule{Method: method, Path: path, Times: 1, Status: status}
	if status == http.StatusTooManyRequests {
		rule.Header = map[string]string{"Retry-After": "1"}
	}
	if _, err := u.sim.Faults().Add(rule); err != nil {
		t.Fatalf("add fault %d on %s %s: %v", status, method, path, err)
	}
}

// send calls the simulator directly, bypassing the gateway, and returns the
// response's data. Tests use it to set up state and to change state
// behind the gateway's back.
func (u *cacheUpstream) send(t *testing.T, key, method, path, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatalf("build %s %s: %v", method, path, err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}

	res, raw := testutil.Do(t, u.http, req)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: status %d, body %s", method, path, res.StatusCode, raw)
	}

	var envelope struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(raw, &envelope); err != nil {
		t.Fatalf("%s %s: body %s is not a data envelope: %v", method, path, raw, err)
	}
	return envelope.Data
}

// agentID returns the id of the organization's first agent.
func (u *cacheUpstream) agentID(t *testing.T, key string) string {
	t.Helper()
	agents, _ := u.send(t, key, http.MethodGet, "/v1/agents", "")["agents"].([]any)
	if len(agents) == 0 {
		t.Fatal("GET /v1/agents returned no agents")
	}
	id, _ := agents[0].(map[string]any)["id"].(string)
	if id == "" {
		t.Fatal("the first agent of GET /v1/agents has no id")
	}
	return id
}

// sessionID returns the id of one of the organization's sessions with the
// given status, such as "active".
func (u *cacheUpstream) sessionID(t *testing.T, key, status string) string {
	t.Helper()
	sessions, _ := u.send(t, key, http.MethodGet, "/v1/sessions?status="+status, "")["sessions"].([]any)
	if len(sessions) == 0 {
		t.Fatalf("GET /v1/sessions returned no %s session", status)
	}
	id, _ := sessions[0].(map[string]any)["id"].(string)
	if id == "" {
		t.Fatalf("the first %s session has no id", status)
	}
	return id
}

// cacheGateway is a gateway built with [New] over a real upstream client
// and a response cache with a fake clock and recorded metrics, served by
// httptest.
type cacheGateway struct {
	url    string
	http   *http.Client
	cache  *cache.Cache
	clock  *clockwork.FakeClock
	reader *sdkmetric.ManualReader
}

// cacheGatewayConfig configures [newCacheGateway]. The zero value selects a
// 1 MiB memory store.
type cacheGatewayConfig struct {
	store cache.Store
	opts  []cache.Option
}

func newCacheGateway(t *testing.T, up *cacheUpstream, cfg cacheGatewayConfig) *cacheGateway {
	t.Helper()
	g := &cacheGateway{
		clock:  clockwork.NewFakeClockAt(cacheClockStart),
		reader: sdkmetric.NewManualReader(),
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(g.reader))
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })

	store := cfg.store
	if store == nil {
		memory, err := cache.NewMemoryStore(1 << 20)
		if err != nil {
			t.Fatalf("NewMemoryStore: %v", err)
		}
		store = memory
	}
	logger := slog.New(slog.DiscardHandler)
	opts := append([]cache.Option{
		cache.WithClock(g.clock),
		cache.WithMeterProvider(provider),
		cache.WithLogger(logger),
	}, cfg.opts...)
	c, err := NewCache(store, opts...)
	if err != nil {
		t.Fatalf("NewCache: %v", err)
	}
	g.cache = c

	client, err := upstream.New(up.url, upstream.WithLogger(logger))
	if err != nil {
		t.Fatalf("upstream.New: %v", err)
	}
	srv, err := New(Config{Upstream: client, Cache: c, Logger: logger})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	hs := httptest.NewServer(srv)
	g.url, g.http = hs.URL, hs.Client()
	// Close the server before the cache, so no call runs on a closed cache.
	t.Cleanup(func() {
		hs.Close()
		if err := c.Close(); err != nil {
			t.Errorf("close cache: %v", err)
		}
	})
	return g
}

// cacheFace is a face of the gateway that a test calls.
type cacheFace string

const (
	faceConnect cacheFace = "connect"
	faceREST    cacheFace = "rest"
)

var cacheFaces = []cacheFace{faceConnect, faceREST}

// connectInvoker sends one Connect call with extra request headers.
type connectInvoker func(ctx context.Context, client *http.Client, baseURL string, header http.Header) cacheReply

// cacheCall is one RPC call with its Connect and REST forms.
type cacheCall struct {
	// name is the RPC's name, for messages.
	name string
	// route is the simulator's call counter key of the upstream operation.
	route string
	// method, path and body are the REST request.
	method, path, body string
	connect            connectInvoker
}

// connectRPC returns an invoker of procedure with req, using a Connect
// client with the default protocol and codec.
func connectRPC[Res, Req any, PReq interface {
	*Req
	proto.Message
}](procedure string, req PReq) connectInvoker {
	return func(ctx context.Context, client *http.Client, baseURL string, header http.Header) cacheReply {
		rpc := connect.NewClient[Req, Res](client, baseURL+procedure)
		request := connect.NewRequest((*Req)(req))
		for name, values := range header {
			request.Header()[name] = values
		}
		res, err := rpc.CallUnary(ctx, request)
		if err != nil {
			var cerr *connect.Error
			if errors.As(err, &cerr) {
				return cacheReply{header: cerr.Meta(), err: err}
			}
			return cacheReply{header: http.Header{}, err: err}
		}
		msg, _ := any(res.Msg).(proto.Message)
		text, _ := protojson.Marshal(msg)
		return cacheReply{header: res.Header(), msg: msg, body: string(text)}
	}
}

// cacheReply is a gateway response on either face.
type cacheReply struct {
	header http.Header
	// body is the REST body, or the Connect response as protojson.
	body string
	// msg is the Connect response; nil on the REST face.
	msg proto.Message
	// status is the REST face's HTTP status; 0 on the Connect face.
	status int
	// err is the Connect face's error.
	err error
}

// failed reports whether the call failed on its face.
func (r cacheReply) failed() bool {
	return r.err != nil || r.status >= 300
}

// failure describes a failed call for a message.
func (r cacheReply) failure() string {
	if r.err != nil {
		return r.err.Error()
	}
	return r.body
}

// sameResponse reports whether r and other carry the same response.
func (r cacheReply) sameResponse(other cacheReply) bool {
	if r.msg != nil || other.msg != nil {
		return proto.Equal(r.msg, other.msg)
	}
	return r.body == other.body
}

// unavailable reports whether the call failed as the upstream's 503 does:
// code unavailable on Connect, HTTP 503 on REST.
func (r cacheReply) unavailable() bool {
	if r.err != nil {
		return connect.CodeOf(r.err) == connect.CodeUnavailable
	}
	return r.status == http.StatusServiceUnavailable
}

// do sends call through face with key and extra headers.
func (g *cacheGateway) do(t *testing.T, face cacheFace, call cacheCall, key string, header http.Header) cacheReply {
	t.Helper()
	full := http.Header{"Authorization": {"Bearer " + key}}
	for name, values := range header {
		full[name] = values
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if face == faceConnect {
		return call.connect(ctx, g.http, g.url, full)
	}

	var body io.Reader
	if call.body != "" {
		body = strings.NewReader(call.body)
	}
	req, err := http.NewRequestWithContext(ctx, call.method, g.url+call.path, body)
	if err != nil {
		t.Fatalf("build %s %s: %v", call.method, call.path, err)
	}
	req.Header = full
	if call.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, raw := testutil.Do(t, g.http, req)
	return cacheReply{header: res.Header, body: string(bytes.TrimSpace(raw)), status: res.StatusCode}
}

// read sends call and fails the test unless it succeeded with the X-Cache
// status want.
func (g *cacheGateway) read(t *testing.T, face cacheFace, call cacheCall, key string, want cache.Status) cacheReply {
	t.Helper()
	return g.readWith(t, face, call, key, nil, want)
}

// readWith is read with extra request headers.
func (g *cacheGateway) readWith(
	t *testing.T,
	face cacheFace,
	call cacheCall,
	key string,
	header http.Header,
	want cache.Status,
) cacheReply {
	t.Helper()
	reply := g.do(t, face, call, key, header)
	if reply.failed() {
		t.Fatalf("%s on %s failed: %s", call.name, face, reply.failure())
	}
	if got := reply.header.Get(HeaderCache); got != string(want) {
		t.Errorf("%s on %s: %s is %q, want %q", call.name, face, HeaderCache, got, want)
	}
	return reply
}

// write sends a write and fails the test unless it succeeded.
func (g *cacheGateway) write(t *testing.T, face cacheFace, call cacheCall, key string) cacheReply {
	t.Helper()
	reply := g.do(t, face, call, key, nil)
	if reply.failed() {
		t.Fatalf("%s on %s failed: %s", call.name, face, reply.failure())
	}
	return reply
}

// checkAge fails the test unless reply's Age header is want.
func checkAge(t *testing.T, face cacheFace, call cacheCall, reply cacheReply, want string) {
	t.Helper()
	if got := reply.header.Get(HeaderAge); got != want {
		t.Errorf("%s on %s: %s is %q, want %q", call.name, face, HeaderAge, got, want)
	}
}

// checkCalls fails the test unless the simulator received want requests on
// the call's route.
func checkCalls(t *testing.T, up *cacheUpstream, call cacheCall, want int) {
	t.Helper()
	if got := up.calls(call.route); got != want {
		t.Errorf("simulator received %d requests on %s, want %d", got, call.route, want)
	}
}

// metric returns the sum of the int64 data points of the named instrument
// whose attributes contain match.
func (g *cacheGateway) metric(t *testing.T, name string, match ...attribute.KeyValue) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := g.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("collect metrics: %v", err)
	}
	var total int64
	for _, scope := range rm.ScopeMetrics {
		for _, m := range scope.Metrics {
			if m.Name != name {
				continue
			}
			var points []metricdata.DataPoint[int64]
			switch data := m.Data.(type) {
			case metricdata.Sum[int64]:
				points = data.DataPoints
			case metricdata.Gauge[int64]:
				points = data.DataPoints
			default:
				t.Fatalf("metric %s has unexpected data type %T", name, m.Data)
			}
			for _, point := range points {
				if hasAllAttributes(point.Attributes, match) {
					total += point.Value
				}
			}
		}
	}
	return total
}

func hasAllAttributes(set attribute.Set, match []attribute.KeyValue) bool {
	for _, kv := range match {
		value, ok := set.Value(kv.Key)
		if !ok || value != kv.Value {
			return false
		}
	}
	return true
}
