package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/groundcam/groundcam-gateway/adapters/telemetry"
	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	"github.com/groundcam/groundcam-gateway/simulator"
)

// Connection settings of the upstream HTTP client. MaxIdleConnsPerHost
// matches the policy's default of 64 concurrent upstream calls, so a busy
// gateway reuses its connections instead of opening new ones.
const (
	upstreamDialTimeout  = 5 * time.Second
	upstreamKeepAlive    = 30 * time.Second
	upstreamIdleConns    = 64
	upstreamIdleTimeout  = 90 * time.Second
	upstreamTLSHandshake = 5 * time.Second
)

// upstreamTarget is the upstream the gateway calls: the GroundCam API, or
// the embedded simulator when no URL is configured.
type upstreamTarget struct {
	client     *upstream.Client
	transport  *http.Transport
	defaultKey string
	// sim is the embedded simulator, nil with a real upstream.
	sim *embeddedSimulator
}

// newUpstreamTarget starts the embedded simulator when cfg names no
// upstream, and builds the upstream client.
func newUpstreamTarget(cfg config, tel *telemetry.Telemetry, logger *slog.Logger) (*upstreamTarget, error) {
	t := &upstreamTarget{defaultKey: cfg.apiKey}
	baseURL := cfg.upstreamURL
	if baseURL == "" {
		sim, err := startSimulator(logger)
		if err != nil {
			return nil, err
		}
		t.sim = sim
		baseURL = sim.baseURL
		if t.defaultKey == "" {
			t.defaultKey = sim.demoKey
		}
		logger.Info("no upstream URL set: using the embedded GroundCam simulator",
			"simulator_addr", sim.addr, "organization", sim.organization,
			"default_key_from", defaultKeySource(cfg.apiKey))
	}

	t.transport = &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   upstreamDialTimeout,
			KeepAlive: upstreamKeepAlive,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          upstreamIdleConns,
		MaxIdleConnsPerHost:   upstreamIdleConns,
		IdleConnTimeout:       upstreamIdleTimeout,
		TLSHandshakeTimeout:   upstreamTLSHandshake,
		ExpectContinueTimeout: time.Second,
	}
	httpClient := &http.Client{
		Transport: telemetry.NewTransport(t.transport, tel.TracerProvider(), tel.MeterProvider(),
			// Only the trace context crosses to the upstream, a third
			// party: callers' baggage stays inside the mesh.
			telemetry.WithPropagator(propagation.TraceContext{})),
	}
	policy := upstream.NewPolicy(
		upstream.PolicyConfig{DefaultTimeout: cfg.upstreamTimeout},
		upstream.WithPolicyLogger(logger),
		upstream.WithPolicyMeterProvider(tel.MeterProvider()),
	)
	client, err := upstream.New(baseURL,
		upstream.WithHTTPClient(httpClient),
		upstream.WithLogger(logger),
		upstream.WithPolicy(policy),
		upstream.WithUserAgent("groundcam-gateway/"+version),
	)
	if err != nil {
		if t.sim != nil {
			t.sim.close(context.Background(), logger)
		}
		return nil, fmt.Errorf("create upstream client: %w", err)
	}
	t.client = client
	return t, nil
}

// defaultKeySource names where the default key comes from, for the log;
// the key itself is never logged.
func defaultKeySource(configured string) string {
	if configured != "" {
		return envAPIKey
	}
	return "simulator demo key"
}

// close drops idle upstream connections and stops the embedded simulator.
func (t *upstreamTarget) close(ctx context.Context, logger *slog.Logger) {
	if t.transport != nil {
		t.transport.CloseIdleConnections()
	}
	if t.sim != nil {
		t.sim.close(ctx, logger)
	}
}

// embeddedSimulator is the simulator served on a loopback port.
type embeddedSimulator struct {
	sim    *simulator.Server
	srv    *http.Server
	served chan error
	addr   string
	// baseURL is the simulator's API root, such as http://127.0.0.1:41234/v1.
	baseURL string
	// demoKey is the fixture's first key, the default key of the gateway
	// unless GROUNDCAM_API_KEY is set. Never log it.
	demoKey      string
	organization string
}

// simulatorSweepInterval runs the simulator's expiries and reminders in the
// background, so sessions expire even when no call arrives.
const simulatorSweepInterval = time.Second

// startSimulator serves a fresh simulator on 127.0.0.1 with a free port.
func startSimulator(logger *slog.Logger) (*embeddedSimulator, error) {
	sim, err := simulator.New(
		simulator.WithClock(simulator.NewOffsetClock()),
		simulator.WithLogger(logger.With("component", "simulator")),
		simulator.WithSweepInterval(simulatorSweepInterval),
	)
	if err != nil {
		return nil, fmt.Errorf("create embedded simulator: %w", err)
	}
	keys := sim.Keys()
	if len(keys) == 0 {
		sim.Close()
		return nil, fmt.Errorf("create embedded simulator: its fixture has no API key")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sim.Close()
		return nil, fmt.Errorf("listen for the embedded simulator: %w", err)
	}
	e := &embeddedSimulator{
		sim:          sim,
		srv:          &http.Server{Handler: sim, ReadHeaderTimeout: readHeaderTimeout},
		served:       make(chan error, 1),
		addr:         ln.Addr().String(),
		baseURL:      "http://" + ln.Addr().String() + "/v1",
		demoKey:      keys[0].Key,
		organization: keys[0].OrganizationName,
	}
	go func() { e.served <- serveHTTP(e.srv, ln, "simulator") }()
	return e, nil
}

// close stops the simulator's server and its background work.
func (e *embeddedSimulator) close(ctx context.Context, logger *slog.Logger) {
	if err := e.srv.Shutdown(ctx); err != nil {
		logger.Warn("embedded simulator did not stop cleanly", "error", err)
	}
	if err := <-e.served; err != nil {
		logger.Warn("embedded simulator failed", "error", err)
	}
	e.sim.Close()
	logger.Info("embedded simulator stopped")
}
