package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jonboulle/clockwork"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/groundcam/groundcam-gateway/adapters/telemetry"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/gen/groundcam/v1/groundcamv1connect"
	"github.com/groundcam/groundcam-gateway/internal/testutil"
	"github.com/groundcam/groundcam-gateway/simulator"
)

// testConfig returns a configuration on free loopback ports.
func testConfig(upstreamURL, key string) config {
	return config{
		listenAddr: "127.0.0.1:0", adminAddr: "127.0.0.1:0",
		upstreamURL: upstreamURL, apiKey: key,
		drainDelay: 5 * time.Second, shutdownTimeout: 20 * time.Second, upstreamTimeout: 15 * time.Second,
		logLevel: slog.LevelInfo, trustTraceparent: true,
	}
}

// startedGateway is a run in progress.
type startedGateway struct {
	api, admin     net.Addr
	done           chan error
	logs, stdout   *testutil.LockedBuffer
	listenerClosed chan struct{}
}

// startRun runs the gateway until ctx ends and waits until it serves.
// Each of configure, if any, changes the run options before the start.
func startRun(
	t *testing.T,
	ctx context.Context,
	cfg config,
	clock clockwork.Clock,
	configure ...func(*runOptions),
) *startedGateway {
	t.Helper()
	g := &startedGateway{
		done: make(chan error, 1), logs: &testutil.LockedBuffer{}, stdout: &testutil.LockedBuffer{},
		listenerClosed: make(chan struct{}),
	}
	ready := make(chan struct{})
	opts := runOptions{
		logger:    telemetry.NewLogger(g.logs, slog.LevelInfo),
		stdout:    g.stdout,
		clock:     clock,
		telemetry: []telemetry.Option{telemetry.WithoutEnvExporters()},
		ready: func(api, admin net.Addr) {
			g.api, g.admin = api, admin
			close(ready)
		},
		listenerClosed: func() { close(g.listenerClosed) },
	}
	for _, change := range configure {
		change(&opts)
	}
	go func() { g.done <- run(ctx, cfg, opts) }()
	select {
	case <-ready:
	case err := <-g.done:
		t.Fatalf("run stopped before serving: %v\n%s", err, g.logs)
	}
	return g
}

// wait returns run's result.
func (g *startedGateway) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-g.done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("run did not return\n%s", g.logs)
		return nil
	}
}

// gatedUpstream serves the simulator but holds requests to one path until
// the test releases them, so a call can be kept in flight.
type gatedUpstream struct {
	sim     *simulator.Server
	path    string
	arrived chan struct{}
	release chan struct{}
}

func (u *gatedUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == u.path {
		u.arrived <- struct{}{}
		<-u.release
	}
	u.sim.ServeHTTP(w, r)
}

func TestRunDrainsBeforeStopping(t *testing.T) {
	t.Parallel()
	sim, err := simulator.New()
	if err != nil {
		t.Fatalf("simulator.New: %v", err)
	}
	t.Cleanup(sim.Close)
	upstreamServer := &gatedUpstream{
		sim: sim, path: "/v1/credits", arrived: make(chan struct{}, 1), release: make(chan struct{}),
	}
	ts := httptest.NewServer(upstreamServer)
	t.Cleanup(ts.Close)

	clock := clockwork.NewFakeClock()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	g := startRun(t, ctx, testConfig(ts.URL+"/v1", sim.Keys()[0].Key), clock)
	base := "http://" + g.api.String()
	httpClient := &http.Client{Transport: &http.Transport{}}
	defer httpClient.CloseIdleConnections()
	conn, err := grpc.NewClient(g.api.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	healthStatus := func() healthpb.HealthCheckResponse_ServingStatus {
		t.Helper()
		res, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{})
		if err != nil {
			t.Fatalf("health check: %v", err)
		}
		return res.GetStatus()
	}
	if got := healthStatus(); got != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health before the signal = %v, want SERVING", got)
	}

	// A slow call is in flight when the stop signal arrives.
	slow := make(chan error, 1)
	go func() {
		_, err := groundcamv1connect.NewCreditServiceClient(httpClient, base).
			GetCredits(context.Background(), connect.NewRequest(&groundcamv1.GetCreditsRequest{}))
		slow <- err
	}()
	<-upstreamServer.arrived
	stop()

	// During the drain delay health reports NOT_SERVING and calls still work.
	waitCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := clock.BlockUntilContext(waitCtx, 1); err != nil {
		t.Fatalf("run never waited for the drain delay: %v", err)
	}
	if got := healthStatus(); got != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("health during the drain = %v, want NOT_SERVING", got)
	}
	if _, err := groundcamv1connect.NewOrganizationServiceClient(httpClient, base).GetOrganization(
		context.Background(), connect.NewRequest(&groundcamv1.GetOrganizationRequest{})); err != nil {
		t.Errorf("call during the drain: %v", err)
	}
	select {
	case <-g.listenerClosed:
		t.Fatal("the listener closed before the drain delay ended")
	default:
	}

	// After the delay the listener closes while the slow call still runs.
	clock.Advance(5 * time.Second)
	<-g.listenerClosed
	if c, err := net.Dial("tcp", g.api.String()); err == nil {
		c.Close()
		t.Error("the API port still accepts connections after the drain")
	}
	select {
	case err := <-slow:
		t.Fatalf("the slow call ended before its upstream answered: %v", err)
	default:
	}
	close(upstreamServer.release)
	if err := <-slow; err != nil {
		t.Errorf("in-flight call during shutdown: %v", err)
	}
	if err := g.wait(t); err != nil {
		t.Errorf("run: %v", err)
	}

	logs := g.logs.String()
	order := []string{"gateway started", "stop signal received", "closing the listener", "gateway stopped"}
	last := -1
	for _, msg := range order {
		i := strings.Index(logs, msg)
		if i <= last {
			t.Errorf("log %q is missing or out of order in:\n%s", msg, logs)
		}
		last = i
	}
}

func TestRunWithEmbeddedSimulator(t *testing.T) {
	t.Parallel()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	cfg := testConfig("", "")
	cfg.drainDelay = 0
	g := startRun(t, ctx, cfg, clockwork.NewRealClock())
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	printed := g.stdout.String()
	for _, want := range []string{
		"buf curl --protocol connect --http2-prior-knowledge http://" + g.api.String() + "/groundcam.v1.AgentService/ListAgents",
		"grpcurl -plaintext " + g.api.String() + " groundcam.v1.AgentService/ListAgents",
		"curl http://" + g.api.String() + "/v1/agents",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("stdout lacks %q:\n%s", want, printed)
		}
	}

	// The printed Connect call works without a key: the demo key is the default.
	resp, err := client.Post("http://"+g.api.String()+"/groundcam.v1.AgentService/ListAgents",
		"application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("POST ListAgents: %v", err)
	}
	var agents struct {
		Agents []json.RawMessage `json:"agents"`
	}
	err = json.NewDecoder(resp.Body).Decode(&agents)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(agents.Agents) == 0 {
		t.Errorf("ListAgents = %d with %d agents (%v), want 200 with the demo agents",
			resp.StatusCode, len(agents.Agents), err)
	}

	metrics, err := client.Get("http://" + g.admin.String() + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	body, _ := io.ReadAll(metrics.Body)
	metrics.Body.Close()
	if metrics.StatusCode != http.StatusOK || !strings.Contains(string(body), "rpc_server") {
		t.Errorf("/metrics = %d without RPC server metrics:\n%.500s", metrics.StatusCode, body)
	}

	stop()
	if err := g.wait(t); err != nil {
		t.Errorf("run: %v", err)
	}
	logs := g.logs.String()
	if !strings.Contains(logs, "embedded GroundCam simulator") || !strings.Contains(logs, "embedded simulator stopped") {
		t.Errorf("logs do not report the simulator's start and stop:\n%s", logs)
	}
	if strings.Contains(logs, "gc_live_") {
		t.Error("the logs show an API key")
	}
}

func TestRunFailsOnBusyPort(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer busy.Close()
	cfg := testConfig("", "")
	cfg.listenAddr = busy.Addr().String()
	err = run(context.Background(), cfg, runOptions{
		logger:    slog.New(slog.DiscardHandler),
		telemetry: []telemetry.Option{telemetry.WithoutEnvExporters()},
	})
	if err == nil || !strings.Contains(err.Error(), envListenAddr) {
		t.Errorf("run on a busy port = %v, want an error naming %s", err, envListenAddr)
	}
}

func TestRunTraceparentSwitch(t *testing.T) {
	t.Parallel()
	const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	for _, trust := range []bool{true, false} {
		t.Run(fmt.Sprintf("trust %v", trust), func(t *testing.T) {
			t.Parallel()
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			cfg := testConfig("", "")
			cfg.drainDelay, cfg.trustTraceparent = 0, trust
			g := startRun(t, ctx, cfg, clockwork.NewRealClock())

			req, err := http.NewRequest(http.MethodPost,
				"http://"+g.api.String()+"/groundcam.v1.CreditService/GetCredits", strings.NewReader("{}"))
			if err != nil {
				t.Fatalf("build request: %v", err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Traceparent", "00-"+callerTrace+"-00f067aa0ba902b7-01")
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("GetCredits: %v", err)
			}
			resp.Body.Close()
			stop()
			if err := g.wait(t); err != nil {
				t.Errorf("run: %v", err)
			}

			var line struct {
				Msg     string `json:"msg"`
				TraceID string `json:"trace_id"`
			}
			for _, raw := range strings.Split(g.logs.String(), "\n") {
				if strings.Contains(raw, `"rpc call"`) {
					if err := json.Unmarshal([]byte(raw), &line); err != nil {
						t.Fatalf("decode %q: %v", raw, err)
					}
				}
			}
			if line.TraceID == "" {
				t.Fatalf("no access line with a trace id in:\n%s", g.logs)
			}
			if joined := line.TraceID == callerTrace; joined != trust {
				t.Errorf("call joined the caller's trace = %v, want %v", joined, trust)
			}
		})
	}
}
