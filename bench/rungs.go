package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"go.opentelemetry.io/otel/propagation"

	"github.com/groundcam/groundcam-gateway/adapters/cache"
	"github.com/groundcam/groundcam-gateway/adapters/telemetry"
	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/gen/groundcam/v1/groundcamv1connect"
	"github.com/groundcam/groundcam-gateway/server"
)

// Rung is one layer of the ladder.
type Rung string

// The rungs, from the floor up.
const (
	RungRaw      Rung = "L0-raw"
	RungBare     Rung = "L1-bare"
	RungHit      Rung = "L2-hit"
	RungTraced   Rung = "L3-traced"
	RungMiss     Rung = "L4-miss"
	RungProxy    Rung = "L4-proxy"
	RungDirect   Rung = "L4-direct"
	RungREST     Rung = "L5-rest"
	RungVanguard Rung = "L5-vanguard"
)

// Rungs lists every rung in ladder order.
func Rungs() []Rung {
	return []Rung{RungRaw, RungBare, RungHit, RungTraced, RungMiss, RungProxy, RungDirect, RungREST, RungVanguard}
}

// NeedsUpstream reports whether the rung's server calls the upstream stub.
func (r Rung) NeedsUpstream() bool {
	switch r {
	case RungHit, RungTraced, RungMiss, RungProxy, RungREST, RungVanguard:
		return true
	}
	return false
}

// Cached reports whether the rung serves reads from the gateway's cache.
func (r Rung) Cached() bool {
	switch r {
	case RungHit, RungTraced, RungREST, RungVanguard:
		return true
	}
	return false
}

// APIKey is the gateway's default key in the ladder, so calls carry no
// Authorization header. The stub accepts any key.
const APIKey = "gk_bench_0123456789abcdef"

// cacheBytes bounds the gateway's memory cache; the ladder stores two
// entries.
const cacheBytes = 32 << 20

// Server is the server of one rung. Close it to stop its background work.
type Server struct {
	// Handler serves the rung's calls.
	Handler http.Handler

	closers []func() error
}

// Close stops the server's background work and closes its connections.
func (s *Server) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	return errors.Join(errs...)
}

// NewServer builds the server of rung for sizes. upstreamURL is the root of
// the upstream stub, such as "http://127.0.0.1:9000", for the rungs that
// call it (see [Rung.NeedsUpstream]).
func NewServer(rung Rung, sizes []*Size, upstreamURL string) (*Server, error) {
	if rung.NeedsUpstream() && upstreamURL == "" {
		return nil, fmt.Errorf("rung %s calls the upstream stub: pass its URL", rung)
	}
	switch rung {
	case RungRaw:
		return &Server{Handler: newRawHandler(sizes)}, nil
	case RungBare:
		return &Server{Handler: newBareHandler(sizes)}, nil
	case RungDirect:
		return &Server{Handler: NewStub(sizes)}, nil
	case RungHit, RungREST:
		return newGateway(upstreamURL, gatewayConfig{cache: true})
	case RungTraced:
		return newGateway(upstreamURL, gatewayConfig{cache: true, traced: true})
	case RungMiss:
		return newGateway(upstreamURL, gatewayConfig{})
	case RungProxy:
		return newProxy(upstreamURL), nil
	case RungVanguard:
		gw, err := newGateway(upstreamURL, gatewayConfig{cache: true})
		if err != nil {
			return nil, err
		}
		transcoder, err := newVanguard(gw.Handler)
		if err != nil {
			return nil, errors.Join(err, gw.Close())
		}
		gw.Handler = transcoder
		return gw, nil
	}
	return nil, fmt.Errorf("unknown rung %q", rung)
}

// newRawHandler writes each size's binary response to a POST of its
// procedure, after reading the request body.
func newRawHandler(sizes []*Size) http.Handler {
	mux := http.NewServeMux()
	for _, size := range sizes {
		body := size.ResponseBytes
		mux.HandleFunc("POST "+size.Procedure, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header()["Content-Type"] = protoContentType
			_, _ = w.Write(body)
		})
	}
	return mux
}

var protoContentType = []string{"application/proto"}

// newBareHandler serves the sizes' procedures with connect-go handlers
// that return the static responses, with connect-go's default options.
func newBareHandler(sizes []*Size) http.Handler {
	mux := http.NewServeMux()
	bare := &bareService{}
	for _, size := range sizes {
		switch res := size.Response.(type) {
		case *groundcamv1.ListAgentsResponse:
			bare.agents = res
		case *groundcamv1.ListSessionsResponse:
			bare.sessions = res
		}
	}
	mux.Handle(groundcamv1connect.NewAgentServiceHandler(bare))
	mux.Handle(groundcamv1connect.NewSessionServiceHandler(bare))
	return mux
}

// bareService returns static responses.
type bareService struct {
	groundcamv1connect.UnimplementedSessionServiceHandler
	agents   *groundcamv1.ListAgentsResponse
	sessions *groundcamv1.ListSessionsResponse
}

var (
	_ groundcamv1connect.AgentServiceHandler   = (*bareService)(nil)
	_ groundcamv1connect.SessionServiceHandler = (*bareService)(nil)
)

// ListAgents returns the static agents.
func (b *bareService) ListAgents(
	context.Context,
	*connect.Request[groundcamv1.ListAgentsRequest],
) (*connect.Response[groundcamv1.ListAgentsResponse], error) {
	return connect.NewResponse(b.agents), nil
}

// ListSessions returns the static page of sessions.
func (b *bareService) ListSessions(
	context.Context,
	*connect.Request[groundcamv1.ListSessionsRequest],
) (*connect.Response[groundcamv1.ListSessionsResponse], error) {
	return connect.NewResponse(b.sessions), nil
}

// gatewayConfig selects the gateway's layers.
type gatewayConfig struct {
	cache  bool
	traced bool
}

// Connection settings of the gateway's upstream client, as the gateway
// command sets them.
const (
	upstreamIdleConns   = 64
	upstreamIdleTimeout = 90 * time.Second
)

// newUpstreamTransport returns an HTTP transport to the upstream stub with
// the gateway command's connection settings.
func newUpstreamTransport() *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        upstreamIdleConns,
		MaxIdleConnsPerHost: upstreamIdleConns,
		IdleConnTimeout:     upstreamIdleTimeout,
	}
}

// newGateway builds the gateway as the gateway command wires it: an
// upstream client with the default policy behind the telemetry transport,
// optionally a memory cache, and optionally the tracing interceptor with
// SDK providers. Logs are discarded.
func newGateway(upstreamURL string, cfg gatewayConfig) (*Server, error) {
	logger := slog.New(slog.DiscardHandler)
	tel := noopProviders()
	if cfg.traced {
		tel = sdkProviders()
	}
	s := &Server{}
	if tel.shutdown != nil {
		s.closers = append(s.closers, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return tel.shutdown(ctx)
		})
	}

	base := newUpstreamTransport()
	s.closers = append(s.closers, func() error { base.CloseIdleConnections(); return nil })
	propagator := propagation.TraceContext{}
	httpClient := &http.Client{Transport: telemetry.NewTransport(base, tel.tracer, tel.meter,
		telemetry.WithPropagator(propagator))}
	policy := upstream.NewPolicy(upstream.PolicyConfig{},
		upstream.WithPolicyLogger(logger), upstream.WithPolicyMeterProvider(tel.meter))
	client, err := upstream.New(upstreamURL+"/v1",
		upstream.WithHTTPClient(httpClient), upstream.WithLogger(logger), upstream.WithPolicy(policy))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("upstream client: %w", err), s.Close())
	}

	srvCfg := server.Config{Upstream: client, DefaultAPIKey: APIKey, Logger: logger}
	if cfg.cache {
		store, err := cache.NewMemoryStore(cacheBytes)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("cache store: %w", err), s.Close())
		}
		c, err := server.NewCache(store, cache.WithLogger(logger), cache.WithMeterProvider(tel.meter))
		if err != nil {
			return nil, errors.Join(fmt.Errorf("cache: %w", err), s.Close())
		}
		s.closers = append(s.closers, c.Close)
		srvCfg.Cache = c
	}
	if cfg.traced {
		tracing, err := server.NewTracingInterceptor(server.TracingConfig{
			TracerProvider: tel.tracer,
			MeterProvider:  tel.meter,
			Propagator:     propagator,
		})
		if err != nil {
			return nil, errors.Join(err, s.Close())
		}
		srvCfg.Interceptors = []connect.Interceptor{tracing}
	}
	gw, err := server.New(srvCfg)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("gateway: %w", err), s.Close())
	}
	gw.SetServing(true)
	s.Handler = gw
	return s, nil
}
