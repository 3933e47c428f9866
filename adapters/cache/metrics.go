package cache

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// meterName is the instrumentation scope of the cache's metrics.
const meterName = "github.com/groundcam/groundcam-gateway/adapters/cache"

// Attribute keys. Metrics carry the RPC procedure and the store operation,
// never a key, a tenant or request bytes.
const (
	attrProcedure = attribute.Key("rpc.method")
	attrOperation = attribute.Key("cache.operation")
)

// Store operations named in backend error metrics and logs.
const (
	opLookup      = "lookup"
	opGenerations = "generations"
	opSet         = "set"
	opInvalidate  = "invalidate"
	opPing        = "ping"
)

// metrics holds the cache's instruments.
type metrics struct {
	hits          metric.Int64Counter
	misses        metric.Int64Counter
	stale         metric.Int64Counter
	bypasses      metric.Int64Counter
	backendErrors metric.Int64Counter
	registration  metric.Registration

	// options holds each procedure's []metric.AddOption, at most
	// maxProcedureOptions of them, counted by optionCount.
	options     sync.Map
	optionCount atomic.Int64
}

// newMetrics creates the instruments. The backend gauge reads down, and the
// eviction counter reads the store when it counts evictions.
func newMetrics(provider metric.MeterProvider, store Store, down *atomic.Bool) (*metrics, error) {
	meter := provider.Meter(meterName)
	m := &metrics{}
	var errs []error
	counter := func(name, unit, description string) metric.Int64Counter {
		c, err := meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(description))
		errs = append(errs, err)
		return c
	}
	m.hits = counter("gateway.cache.hits", "{request}", "Reads served from a fresh cache entry.")
	m.misses = counter("gateway.cache.misses", "{request}", "Reads that called the upstream.")
	m.stale = counter("gateway.cache.stale", "{request}",
		"Reads served from an expired entry because the upstream failed.")
	m.bypasses = counter("gateway.cache.bypasses", "{request}",
		"Reads that skipped the cache lookup on request or had no cache policy.")
	m.backendErrors = counter("gateway.cache.backend.errors", "{error}",
		"Failed calls to the cache store.")

	evictions, err := meter.Int64ObservableCounter("gateway.cache.evictions",
		metric.WithUnit("{entry}"),
		metric.WithDescription("Entries the store dropped to stay within its size bound."))
	errs = append(errs, err)
	up, err := meter.Int64ObservableGauge("gateway.cache.backend.up",
		metric.WithDescription("1 while the cache store answers, 0 while reads go uncached."))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	counting, _ := store.(evictionCounter)
	m.registration, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		if counting != nil {
			o.ObserveInt64(evictions, int64(min(counting.Evictions(), math.MaxInt64)))
		}
		var value int64 = 1
		if down.Load() {
			value = 0
		}
		o.ObserveInt64(up, value)
		return nil
	}, evictions, up)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (m *metrics) record(ctx context.Context, status Status, procedure string) {
	var counter metric.Int64Counter
	switch status {
	case StatusHit:
		counter = m.hits
	case StatusMiss:
		counter = m.misses
	case StatusStale:
		counter = m.stale
	case StatusBypass:
		counter = m.bypasses
	default:
		return
	}
	counter.Add(ctx, 1, m.procedureOptions(procedure)...)
}

// maxProcedureOptions bounds the procedures whose attribute options are
// kept. The gateway has a few dozen; past the bound, options are built on
// each call.
const maxProcedureOptions = 256

// procedureOptions returns the options that put procedure on a count,
// built once per procedure, since building them allocates on every call.
func (m *metrics) procedureOptions(procedure string) []metric.AddOption {
	if opts, ok := m.options.Load(procedure); ok {
		return opts.([]metric.AddOption)
	}
	opts := []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attrProcedure.String(procedure)))}
	if m.optionCount.Load() < maxProcedureOptions {
		if _, loaded := m.options.LoadOrStore(procedure, opts); !loaded {
			m.optionCount.Add(1)
		}
	}
	return opts
}

// backendError counts a failed store call. Invalidations and pings have no
// procedure, so they carry only the operation.
func (m *metrics) backendError(ctx context.Context, operation, procedure string) {
	attrs := []attribute.KeyValue{attrOperation.String(operation)}
	if procedure != "" {
		attrs = append(attrs, attrProcedure.String(procedure))
	}
	m.backendErrors.Add(ctx, 1, metric.WithAttributes(attrs...))
}
