package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/groundcam/groundcam-gateway/adapters/cache"
	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	"github.com/groundcam/groundcam-gateway/gen/groundcam/v1/groundcamv1connect"
	"github.com/groundcam/groundcam-gateway/server"
	"github.com/groundcam/groundcam-gateway/simulator"
)

// Indexes of the simulator's demo keys, in the order Keys returns them.
const (
	keyAcme    = 0 // Pro plan, every feature, plenty of credits
	keyBistro  = 1 // 2 credits, 1 SMS per session
	keyTrial   = 2 // no SMS, no scheduling
	keyRevoked = 3
	keyOrphan  = 4 // its organization no longer exists
)

// harness is a simulator and a gateway in front of it, both on real
// loopback sockets. The gateway serves HTTP/1.1 and h2c on one port.
type harness struct {
	t   *testing.T
	sim *simulator.Server
	// simURL is the simulator's root URL, without /v1.
	simURL string
	keys   []simulator.DemoKey
	// gateway is the server under test and url its root URL.
	gateway *server.Server
	url     string
	// http1 speaks HTTP/1.1 and h2c speaks HTTP/2 with prior knowledge.
	http1, h2c *http.Client
	// hooks is the local HTTPS endpoint that webhook URLs point at.
	hooks *webhookReceiver
	// lastSimError is the error body of the latest simCall.
	lastSimError simError

	agents       groundcamv1connect.AgentServiceClient
	auth         groundcamv1connect.AuthServiceClient
	sessions     groundcamv1connect.SessionServiceClient
	credits      groundcamv1connect.CreditServiceClient
	webhooks     groundcamv1connect.WebhookServiceClient
	organization groundcamv1connect.OrganizationServiceClient
	stats        groundcamv1connect.StatisticsServiceClient
	config       groundcamv1connect.ConfigurationServiceClient
	appointments groundcamv1connect.AppointmentServiceClient
}

// harnessOptions changes how newHarness builds the gateway.
type harnessOptions struct {
	// noDefaultKey starts the gateway without a default key.
	noDefaultKey bool
	// policy, when set, gives the upstream client retries.
	policy *upstream.PolicyConfig
	// sim adds simulator options.
	sim []simulator.Option
	// logger replaces the discarding logger of the gateway.
	logger *slog.Logger
	// interceptors and cache go into server.Config.
	interceptors []connect.Interceptor
	cache        *cache.Cache
}

// newHarness starts a simulator and a gateway whose default key is the
// Acme demo key. Everything stops when the test ends.
func newHarness(t *testing.T, opts harnessOptions) *harness {
	t.Helper()
	h := &harness{t: t, hooks: newWebhookReceiver(t)}

	simOpts := append([]simulator.Option{simulator.WithWebhookClient(h.hooks.server.Client())}, opts.sim...)
	sim, err := simulator.New(simOpts...)
	if err != nil {
		t.Fatalf("simulator.New: %v", err)
	}
	simServer := httptest.NewServer(sim)
	t.Cleanup(func() {
		simServer.Close()
		sim.Close()
	})
	h.sim, h.simURL, h.keys = sim, simServer.URL, sim.Keys()

	clientOpts := []upstream.Option{upstream.WithLogger(discardLogger())}
	if opts.policy != nil {
		clientOpts = append(clientOpts, upstream.WithPolicy(upstream.NewPolicy(*opts.policy,
			upstream.WithPolicyLogger(discardLogger()))))
	}
	up, err := upstream.New(simServer.URL+"/v1", clientOpts...)
	if err != nil {
		t.Fatalf("upstream.New: %v", err)
	}
	cfg := server.Config{
		Upstream: up, Logger: discardLogger(), Interceptors: opts.interceptors, Cache: opts.cache,
	}
	if opts.logger != nil {
		cfg.Logger = opts.logger
	}
	if !opts.noDefaultKey {
		cfg.DefaultAPIKey = h.keys[keyAcme].Key
	}
	gw, err := server.New(cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	gw.SetServing(true)
	h.gateway, h.url = gw, serveH2C(t, gw)

	h.http1 = &http.Client{Transport: &http.Transport{}}
	var h2 http.Protocols
	h2.SetUnencryptedHTTP2(true)
	h.h2c = &http.Client{Transport: &http.Transport{Protocols: &h2}}
	t.Cleanup(func() {
		h.http1.CloseIdleConnections()
		h.h2c.CloseIdleConnections()
	})
	h.bindClients(h.http1)
	return h
}

// bindClients creates the Connect clients of every service.
func (h *harness) bindClients(hc connect.HTTPClient, opts ...connect.ClientOption) {
	h.agents = groundcamv1connect.NewAgentServiceClient(hc, h.url, opts...)
	h.auth = groundcamv1connect.NewAuthServiceClient(hc, h.url, opts...)
	h.sessions = groundcamv1connect.NewSessionServiceClient(hc, h.url, opts...)
	h.credits = groundcamv1connect.NewCreditServiceClient(hc, h.url, opts...)
	h.webhooks = groundcamv1connect.NewWebhookServiceClient(hc, h.url, opts...)
	h.organization = groundcamv1connect.NewOrganizationServiceClient(hc, h.url, opts...)
	h.stats = groundcamv1connect.NewStatisticsServiceClient(hc, h.url, opts...)
	h.config = groundcamv1connect.NewConfigurationServiceClient(hc, h.url, opts...)
	h.appointments = groundcamv1connect.NewAppointmentServiceClient(hc, h.url, opts...)
}

// serveH2C serves handler on a loopback port over HTTP/1.1 and h2c and
// returns its root URL.
func serveH2C(t *testing.T, handler http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: handler, Protocols: &protocols, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shut down gateway: %v", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve gateway: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// key returns the secret of the demo key at index i.
func (h *harness) key(i int) string { return h.keys[i].Key }

// simCall sends a request straight to the simulator, with the key at index
// key when key >= 0, and decodes the JSON answer's data.
func (h *harness) simCall(method, path string, key int, body any) (int, map[string]any) {
	h.t.Helper()
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatalf("encode simulator body: %v", err)
		}
		reader = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.simURL+path, reader)
	if err != nil {
		h.t.Fatalf("build simulator request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key >= 0 {
		req.Header.Set("Authorization", "Bearer "+h.key(key))
	}
	resp, err := h.http1.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s on the simulator: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out simAnswer
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil && resp.StatusCode != http.StatusNoContent {
		h.t.Fatalf("decode simulator answer to %s %s: %v", method, path, err)
	}
	h.lastSimError = out.Error
	return resp.StatusCode, out.Data
}

// simAnswer is a simulator response body: data, or the upstream's error.
type simAnswer struct {
	Data  map[string]any `json:"data"`
	Error simError       `json:"error"`
}

// simError is the upstream's error object.
type simError struct {
	Message string `json:"message"`
	Code    string `json:"code"`
}

// simGet reads an object through the simulator's API with the Acme key.
func (h *harness) simGet(path string) map[string]any {
	h.t.Helper()
	status, data := h.simCall(http.MethodGet, path, keyAcme, nil)
	if status != http.StatusOK {
		h.t.Fatalf("GET %s on the simulator: status %d", path, status)
	}
	return data
}

// simControl calls the simulator's control API and fails on an error.
func (h *harness) simControl(method, path string, body any) map[string]any {
	h.t.Helper()
	status, data := h.simCall(method, path, -1, body)
	if status/100 != 2 {
		h.t.Fatalf("%s %s on the simulator: status %d", method, path, status)
	}
	return data
}

// agentID returns the id of the Acme agent with the given display name.
func (h *harness) agentID(name string) string {
	h.t.Helper()
	data := h.simGet("/v1/agents?includeDisabled=true")
	for _, a := range data["agents"].([]any) {
		agent := a.(map[string]any)
		if agent["displayName"] == name {
			return agent["id"].(string)
		}
	}
	h.t.Fatalf("no Acme agent is named %q", name)
	return ""
}

// withKey returns a request that sends key as its bearer token.
func withKey[T any](msg *T, key string) *connect.Request[T] {
	req := connect.NewRequest(msg)
	req.Header().Set("Authorization", "Bearer "+key)
	return req
}

// wantError checks an RPC error's code and its ErrorInfo reason and
// http_status.
func wantError(t *testing.T, err error, code connect.Code, reason string, httpStatus int) *connect.Error {
	t.Helper()
	var cerr *connect.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("error = %v, want a %v error", err, code)
	}
	if cerr.Code() != code {
		t.Errorf("code = %v, want %v (message %q)", cerr.Code(), code, cerr.Message())
	}
	info, ok := upstream.ErrorInfoOf(err)
	if !ok {
		t.Fatalf("error %v has no ErrorInfo detail", err)
	}
	if info.GetReason() != reason {
		t.Errorf("ErrorInfo reason = %q, want %q", info.GetReason(), reason)
	}
	if got := info.GetMetadata()[upstream.MetaHTTPStatus]; got != strconv.Itoa(httpStatus) {
		t.Errorf("ErrorInfo http_status = %q, want %d", got, httpStatus)
	}
	if info.GetDomain() != upstream.ErrorDomain {
		t.Errorf("ErrorInfo domain = %q, want %q", info.GetDomain(), upstream.ErrorDomain)
	}
	return cerr
}

// badRequestFields returns the field paths of err's BadRequest detail.
func badRequestFields(t *testing.T, err *connect.Error) []string {
	t.Helper()
	for _, d := range err.Details() {
		v, valueErr := d.Value()
		if valueErr != nil {
			t.Fatalf("decode error detail: %v", valueErr)
		}
		if bad, ok := v.(*errdetails.BadRequest); ok {
			var fields []string
			for _, f := range bad.GetFieldViolations() {
				fields = append(fields, f.GetField())
			}
			return fields
		}
	}
	return nil
}

// retryInfo returns the RetryInfo detail of err, if any.
func retryInfo(t *testing.T, err *connect.Error) *errdetails.RetryInfo {
	t.Helper()
	for _, d := range err.Details() {
		v, valueErr := d.Value()
		if valueErr != nil {
			t.Fatalf("decode error detail: %v", valueErr)
		}
		if info, ok := v.(*errdetails.RetryInfo); ok {
			return info
		}
	}
	return nil
}

// webhookReceiver is a local HTTPS endpoint that accepts webhook
// deliveries, so that the simulator never posts to another host.
type webhookReceiver struct {
	server *httptest.Server

	mu     sync.Mutex
	events []string
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	r := &webhookReceiver{}
	r.server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		r.events = append(r.events, req.Header.Get("X-GroundCam-Event"))
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.server.Close)
	return r
}

// url returns an HTTPS URL of the receiver with the given path.
func (r *webhookReceiver) url(path string) string {
	return r.server.URL + "/" + strings.TrimPrefix(path, "/")
}
