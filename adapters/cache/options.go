package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// Defaults of a [Cache]. Each has a WithX option.
const (
	DefaultLoadTimeout    = 30 * time.Second
	DefaultBackendTimeout = time.Second
	DefaultProbeInterval  = 2 * time.Second
)

// Option configures a [Cache].
type Option func(*config)

type config struct {
	meterProvider     metric.MeterProvider
	logger            *slog.Logger
	clock             clockwork.Clock
	isUpstreamFailure func(error) bool
	loadTimeout       time.Duration
	backendTimeout    time.Duration
	probeInterval     time.Duration
}

func defaultConfig() config {
	return config{
		meterProvider:     otel.GetMeterProvider(),
		logger:            slog.Default(),
		clock:             clockwork.NewRealClock(),
		isUpstreamFailure: notCanceled,
		loadTimeout:       DefaultLoadTimeout,
		backendTimeout:    DefaultBackendTimeout,
		probeInterval:     DefaultProbeInterval,
	}
}

// notCanceled is the default stale-if-error predicate. It treats every load
// error as an upstream failure except a canceled context.
func notCanceled(err error) bool {
	return !errors.Is(err, context.Canceled)
}

// validate returns every invalid setting at once.
func (c config) validate() error {
	var errs []error
	if c.meterProvider == nil {
		errs = append(errs, errors.New("meter provider is nil; omit WithMeterProvider for the global one"))
	}
	if c.logger == nil {
		errs = append(errs, errors.New("logger is nil; omit WithLogger for slog.Default()"))
	}
	if c.clock == nil {
		errs = append(errs, errors.New("clock is nil; omit WithClock for the real clock"))
	}
	if c.isUpstreamFailure == nil {
		errs = append(errs, errors.New("stale-error predicate is nil; omit WithStaleError for the default"))
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{
		{"load timeout", c.loadTimeout},
		{"backend timeout", c.backendTimeout},
		{"probe interval", c.probeInterval},
	} {
		if d.value <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %s", d.name, d.value))
		}
	}
	return errors.Join(errs...)
}

// WithMeterProvider sets where the cache's metrics go. The default is
// otel.GetMeterProvider().
func WithMeterProvider(provider metric.MeterProvider) Option {
	return func(c *config) { c.meterProvider = provider }
}

// WithLogger sets the logger for backend outages and recoveries and for
// panicking loads. The default is slog.Default().
func WithLogger(logger *slog.Logger) Option {
	return func(c *config) { c.logger = logger }
}

// WithClock sets the clock that measures entry ages and paces the probes of
// an unavailable backend. The default is the real clock.
func WithClock(clock clockwork.Clock) Option {
	return func(c *config) { c.clock = clock }
}

// WithStaleError sets the predicate that decides whether a load error is an
// upstream failure, for which a stale entry within its stale-if-error window
// is served instead. The default treats every error except
// [context.Canceled] as an upstream failure. A gateway should pass one that
// accepts only unavailability, rate limiting, timeouts and internal errors.
func WithStaleError(isUpstreamFailure func(error) bool) Option {
	return func(c *config) { c.isUpstreamFailure = isUpstreamFailure }
}

// WithLoadTimeout bounds a shared load, which no single caller's cancel
// stops. The default is [DefaultLoadTimeout].
func WithLoadTimeout(d time.Duration) Option {
	return func(c *config) { c.loadTimeout = d }
}

// WithBackendTimeout bounds each call to the store. The default is
// [DefaultBackendTimeout].
func WithBackendTimeout(d time.Duration) Option {
	return func(c *config) { c.backendTimeout = d }
}

// WithProbeInterval sets how often an unavailable store is pinged to find
// out that it is back. The default is [DefaultProbeInterval].
func WithProbeInterval(d time.Duration) Option {
	return func(c *config) { c.probeInterval = d }
}
