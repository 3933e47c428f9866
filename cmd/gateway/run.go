package main

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
	"github.com/jonboulle/clockwork"

	"github.com/groundcam/groundcam-gateway/adapters/cache"
	"github.com/groundcam/groundcam-gateway/adapters/telemetry"
	"github.com/groundcam/groundcam-gateway/server"
)

// Timeouts of the HTTP servers. Calls themselves are bounded by their
// deadlines and the upstream timeout, not by the server.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	// closeTimeout bounds the admin server's and telemetry's shutdown.
	closeTimeout = 5 * time.Second
)

// runOptions are run's dependencies; tests replace them.
type runOptions struct {
	logger *slog.Logger
	// stdout receives the first-call commands printed with the embedded
	// simulator.
	stdout io.Writer
	// clock times the drain delay.
	clock clockwork.Clock
	// telemetry adds exporters or readers to telemetry.Setup.
	telemetry []telemetry.Option
	// ready, when set, receives the bound API and admin addresses once
	// both listeners accept connections.
	ready func(api, admin net.Addr)
	// listenerClosed, when set, is called once the API listener is closed
	// during shutdown, while in-flight calls may still run.
	listenerClosed func()
	// forceStop, when set, ends when the stop must not wait any longer,
	// such as on a second stop signal. It matters only once run's context
	// has ended. run then skips the rest of the drain delay and the wait
	// for in-flight calls, closes the listeners and open connections, and
	// returns an error that wraps the context's cause.
	forceStop context.Context
}

// gateway holds the parts that run starts and stops.
type gateway struct {
	cfg    config
	opts   runOptions
	tel    *telemetry.Telemetry
	target *upstreamTarget
	cache  *cache.Cache
	server *server.Server
	api    *http.Server
	admin  *http.Server
	apiLn  net.Listener
	adLn   net.Listener
}

// run serves until ctx ends, then drains and stops. Health turns
// NOT_SERVING and the gateway keeps serving for the drain delay. Then the
// API server stops accepting and waits up to the shutdown timeout for
// in-flight calls. Last, telemetry is flushed and the embedded simulator,
// if any, is closed. When opts.forceStop ends during these steps, run stops
// waiting and returns an error.
func run(ctx context.Context, cfg config, opts runOptions) error {
	if opts.clock == nil {
		opts.clock = clockwork.NewRealClock()
	}
	if opts.forceStop == nil {
		opts.forceStop = context.Background()
	}
	if opts.stdout == nil {
		opts.stdout = io.Discard
	}
	logger := opts.logger
	logger.Info("gateway starting", "version", version, "listen_addr", cfg.listenAddr,
		"admin_addr", cfg.adminAddr, "trust_traceparent", cfg.trustTraceparent)

	g, err := start(ctx, cfg, opts)
	if err != nil {
		return err
	}
	return g.serve(ctx)
}

// start builds and binds everything; on error it releases what it made.
func start(ctx context.Context, cfg config, opts runOptions) (_ *gateway, err error) {
	g := &gateway{cfg: cfg, opts: opts}
	defer func() {
		if err != nil {
			g.release()
		}
	}()

	if g.tel, err = telemetry.Setup(ctx, telemetry.Config{ServiceVersion: version}, opts.telemetry...); err != nil {
		return nil, fmt.Errorf("set up telemetry: %w", err)
	}
	if g.target, err = newUpstreamTarget(cfg, g.tel, opts.logger); err != nil {
		return nil, err
	}
	if g.cache, err = newCache(cfg.redisURL, opts.logger, g.tel.MeterProvider()); err != nil {
		return nil, err
	}
	if g.server, err = g.newServer(); err != nil {
		return nil, err
	}
	if err := g.listen(); err != nil {
		return nil, err
	}
	return g, nil
}

// newServer assembles the handlers with tracing and access logging.
func (g *gateway) newServer() (*server.Server, error) {
	tracing, err := server.NewTracingInterceptor(server.TracingConfig{
		TracerProvider: g.tel.TracerProvider(),
		MeterProvider:  g.tel.MeterProvider(),
		Propagator:     g.tel.Propagator(),
		TrustRemote:    g.cfg.trustTraceparent,
	})
	if err != nil {
		return nil, err
	}
	srv, err := server.New(server.Config{
		Upstream:      g.target.client,
		DefaultAPIKey: g.target.defaultKey,
		Logger:        g.opts.logger,
		Cache:         g.cache,
		Interceptors: []connect.Interceptor{
			tracing,
			server.NewAccessLogInterceptor(g.opts.logger),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("assemble server: %w", err)
	}
	srv.SetServing(true)
	return srv, nil
}

// listen binds both ports and builds their servers. The API port speaks
// HTTP/1.1 and HTTP/2 without TLS (h2c with prior knowledge), which gRPC
// clients use.
func (g *gateway) listen() error {
	var err error
	if g.apiLn, err = net.Listen("tcp", g.cfg.listenAddr); err != nil {
		return fmt.Errorf("listen on %s (%s): %w", g.cfg.listenAddr, envListenAddr, err)
	}
	if g.adLn, err = net.Listen("tcp", g.cfg.adminAddr); err != nil {
		return fmt.Errorf("listen on %s (%s): %w", g.cfg.adminAddr, envAdminAddr, err)
	}

	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	errorLog := slog.NewLogLogger(g.opts.logger.Handler(), slog.LevelWarn)
	g.api = &http.Server{
		Handler:           g.server,
		Protocols:         &protocols,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          errorLog,
	}
	if g.opts.listenerClosed != nil {
		// Shutdown closes the listeners before it runs these hooks.
		g.api.RegisterOnShutdown(g.opts.listenerClosed)
	}
	g.admin = &http.Server{
		Handler:           g.tel.AdminHandler(),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          errorLog,
	}
	return nil
}

// serve runs both servers until ctx ends or one fails, then stops.
func (g *gateway) serve(ctx context.Context) error {
	logger := g.opts.logger
	failed := make(chan error, 2)
	go func() { failed <- serveHTTP(g.api, g.apiLn, "API") }()
	go func() { failed <- serveHTTP(g.admin, g.adLn, "admin") }()

	logger.Info("gateway started", "listen_addr", g.apiLn.Addr().String(),
		"admin_addr", g.adLn.Addr().String(), "embedded_simulator", g.target.sim != nil)
	if g.target.sim != nil {
		printFirstCalls(g.opts.stdout, g.apiLn.Addr(), g.target.sim.organization)
	}
	if g.opts.ready != nil {
		g.opts.ready(g.apiLn.Addr(), g.adLn.Addr())
	}

	var serveErr error
	select {
	case <-ctx.Done():
		logger.Info("stop signal received: reporting NOT_SERVING and draining",
			"drain_delay", g.cfg.drainDelay.String())
		g.server.SetServing(false)
		serveErr = g.drain(failed)
	case serveErr = <-failed:
		g.server.SetServing(false)
	}
	return errors.Join(serveErr, g.stop())
}

// drain keeps serving for the drain delay, so that load balancers and
// clients see NOT_SERVING and move away before the listener closes. It
// returns early when forceStop ends.
func (g *gateway) drain(failed <-chan error) error {
	if g.cfg.drainDelay <= 0 {
		return nil
	}
	select {
	case <-g.opts.clock.After(g.cfg.drainDelay):
		return nil
	case <-g.opts.forceStop.Done():
		return nil
	case err := <-failed:
		return err
	}
}

// stop closes the API listener, waits for in-flight calls up to the
// shutdown timeout, then stops the admin server, telemetry and the
// embedded simulator. Once forceStop ends, stop waits no longer, closes
// the open connections and returns an error that names the cause.
func (g *gateway) stop() error {
	logger := g.opts.logger
	force := g.opts.forceStop
	if force.Err() == nil {
		logger.Info("closing the listener and waiting for in-flight calls",
			"shutdown_timeout", g.cfg.shutdownTimeout.String())
	}
	ctx, cancel := context.WithTimeout(force, g.cfg.shutdownTimeout)
	defer cancel()
	var errs []error
	if err := g.api.Shutdown(ctx); err != nil {
		// A forced stop is reported once, by the error that run returns.
		if force.Err() == nil {
			logger.Warn("in-flight calls did not finish before the shutdown timeout; closing their connections",
				"error", err)
		}
		errs = append(errs, closeServer(g.api))
	}
	g.release()
	if force.Err() != nil {
		// The caller logs the returned error, so a forced stop gets no
		// "gateway stopped" line.
		errs = append(errs, fmt.Errorf("drain cut short: %w", context.Cause(force)))
		return errors.Join(errs...)
	}
	logger.Info("gateway stopped")
	return errors.Join(errs...)
}

// release stops the admin server, flushes telemetry and closes the
// upstream target. It tolerates parts that were never started. Once
// forceStop ends, it no longer waits for open connections or the telemetry
// flush, so telemetry not yet exported may be lost.
func (g *gateway) release() {
	logger := g.opts.logger
	ctx, cancel := context.WithTimeout(g.opts.forceStop, closeTimeout)
	defer cancel()
	if g.admin != nil {
		if err := g.admin.Shutdown(ctx); err != nil {
			logger.Warn("admin server did not stop cleanly", "error", err)
			_ = closeServer(g.admin)
		}
	} else if g.adLn != nil {
		_ = g.adLn.Close()
	}
	if g.api == nil && g.apiLn != nil {
		_ = g.apiLn.Close()
	}
	if g.cache != nil {
		if err := g.cache.Close(); err != nil {
			logger.Warn("response cache did not close cleanly", "error", err)
		}
	}
	if g.tel != nil {
		if err := g.tel.Shutdown(ctx); err != nil {
			logger.Warn("telemetry did not flush cleanly", "error", err)
		}
	}
	if g.target != nil {
		g.target.close(ctx, logger)
	}
}

// closeServer closes srv's listeners and connections at once. A listener
// that Shutdown has closed already is not an error.
func closeServer(srv *http.Server) error {
	if err := srv.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("closing the server failed: %w", err)
	}
	return nil
}

// serveHTTP serves srv on ln and returns nil once srv is shut down.
func serveHTTP(srv *http.Server, ln net.Listener, name string) error {
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s on %s: %w", name, ln.Addr(), err)
	}
	return nil
}
