package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
)

// Policy is the cache policy of one read RPC, as declared in its proto
// options.
type Policy struct {
	// TTL is how long a stored response is served without loading it again.
	// Zero disables caching for the RPC.
	TTL time.Duration

	// StaleIfError is how long past the TTL a stored response may still be
	// served, marked stale, when the load fails with an upstream failure.
	// Zero never serves stale data.
	StaleIfError time.Duration

	// Tags name what the response depends on, such as "sessions". An
	// invalidation of one of them for the tenant drops the entry.
	Tags []string
}

// Request identifies one cacheable read.
type Request struct {
	// Tenant is a hash of the caller's effective credential. Entries of one
	// tenant are never served to another. The cache hashes it again before
	// it becomes part of a key.
	Tenant string

	// Procedure is the RPC's full name, such as
	// "/groundcam.v1.SessionService/GetSession". Metrics carry it.
	Procedure string

	// Key is the request message in deterministic proto encoding. It is
	// hashed, never stored, and read only before Do returns, so the caller
	// may reuse its buffer afterwards.
	Key []byte

	// Policy is the RPC's cache policy.
	Policy Policy

	// Decode, when set, makes the caller's form of a stored response, such
	// as a decoded message, for hits and stale results. With a
	// [MemoryStore], every hit of one entry shares the value Decode made on
	// the first hit, so the value must be treated as read-only. A failed
	// decode leaves [Result.Decoded] nil.
	Decode func(value []byte) (any, error)

	// Bypass skips the lookup, for a request with the no-cache directive.
	// The load is not shared with other callers, so it starts after the
	// request arrived. Its response is still stored on success, so the
	// reads after it get the fresh response too.
	Bypass bool
}

// Status is the way a [Result] was served: a hit, a miss, a stale response
// or a bypass. Its values suit a response header such as X-Cache.
type Status string

// Statuses of a [Result].
const (
	// StatusHit is a fresh stored response.
	StatusHit Status = "hit"
	// StatusMiss is a response that was loaded, or a failed load.
	StatusMiss Status = "miss"
	// StatusStale is a stored response past its TTL, served because the load
	// failed with an upstream failure.
	StatusStale Status = "stale"
	// StatusBypass is a response loaded without a lookup, because the request
	// asked for it or its policy has no TTL.
	StatusBypass Status = "bypass"
)

// Result is a response and how it was served.
type Result struct {
	// Value is the response bytes. It may be shared with other callers and
	// with the store, so it must not be modified.
	Value []byte
	// Status is the way Value was served.
	Status Status
	// Age is how long ago Value was loaded, for hits and stale results.
	Age time.Duration
	// Decoded is the result of [Request.Decode] for Value, for hits and
	// stale results; nil otherwise.
	Decoded any
}

// LoadFunc loads a response from the upstream. An error is returned to the
// caller and never cached.
type LoadFunc func(ctx context.Context) ([]byte, error)

// Cache serves reads from a [Store] and collapses concurrent misses of one
// key into one load. Its methods are safe for concurrent use.
//
// While the store fails, reads load uncached and a background prober pings
// the store until a ping succeeds.
type Cache struct {
	store             Store
	clock             clockwork.Clock
	logger            *slog.Logger
	metrics           *metrics
	isUpstreamFailure func(error) bool
	loadTimeout       time.Duration
	backendTimeout    time.Duration
	// memory is the store when it is a MemoryStore, whose calls return
	// without waiting, so a lookup (the store call of every read) needs no
	// timer, and whose entries are read once when stored.
	memory        *MemoryStore
	probeInterval time.Duration
	flights       flightGroup

	down      atomic.Bool
	pendingMu sync.Mutex
	pending   map[string]struct{} // counter keys to invalidate once the store is back

	// closing ends when Close starts. mu orders goroutine starts before the
	// wait in Close.
	closing   context.Context
	stop      context.CancelFunc
	mu        sync.RWMutex
	closed    bool
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// New returns a cache over store. The cache owns the store and closes it in
// [Cache.Close].
func New(store Store, opts ...Option) (*Cache, error) {
	if store == nil {
		return nil, errors.New("cache: store is nil; pass a MemoryStore or a RedisStore")
	}
	cfg := defaultConfig()
	for _, opt := range opts {
		opt(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("cache: invalid options: %w", err)
	}

	c := &Cache{
		store:             store,
		clock:             cfg.clock,
		logger:            cfg.logger,
		isUpstreamFailure: cfg.isUpstreamFailure,
		loadTimeout:       cfg.loadTimeout,
		backendTimeout:    cfg.backendTimeout,
		memory:            asMemoryStore(store),
		probeInterval:     cfg.probeInterval,
	}
	m, err := newMetrics(cfg.meterProvider, store, &c.down)
	if err != nil {
		return nil, fmt.Errorf("cache: create metrics: %w", err)
	}
	c.metrics = m
	c.closing, c.stop = context.WithCancel(context.Background())
	return c, nil
}

// Do returns the response of r, from the store when a current entry is fresh,
// else from load. Concurrent misses of one key share one call of load, which
// runs detached from the callers' cancellation and is bounded by the load
// timeout. A caller whose context ends stops waiting, and the load goes on
// for the others.
//
// When load fails with an upstream failure and a current entry is within
// TTL plus the stale-if-error window, Do returns that entry with
// [StatusStale] and a nil error. Otherwise load's error is returned as is.
// An entry whose tags were invalidated is never served, not even stale.
func (c *Cache) Do(ctx context.Context, r Request, load LoadFunc) (Result, error) {
	if c.isClosed() {
		return Result{}, ErrClosed
	}
	tags, err := r.validate()
	if err != nil {
		return Result{}, err
	}
	if load == nil {
		return Result{}, errors.New("cache: load function is nil")
	}

	var res Result
	switch {
	case r.Policy.TTL == 0:
		res, err = c.loadUncached(ctx, r, load)
	case r.Bypass:
		res, err = c.bypass(ctx, r, newKeySet(r, tags), load)
	default:
		res, err = c.lookupOrLoad(ctx, r, newKeySet(r, tags), load)
	}
	if res.Status != "" {
		c.metrics.record(ctx, res.Status, r.Procedure)
	}
	return res, err
}

// Invalidate drops every entry of tenant that carries one of tags, in every
// replica that shares the store. Call it after a successful write.
//
// It runs detached from ctx's cancellation, because a write whose
// invalidation is lost leaves outdated entries. While the store is
// unavailable the invalidation is queued, bounded, and replayed before
// caching resumes. It then returns nil, or an error when the queue is full.
func (c *Cache) Invalidate(ctx context.Context, tenant string, tags []string) error {
	if c.isClosed() {
		return ErrClosed
	}
	if tenant == "" {
		return errEmptyTenant
	}
	tags, err := normalizeTags(tags)
	if err != nil {
		return fmt.Errorf("cache: invalidate: %w", err)
	}
	if len(tags) == 0 {
		return nil
	}
	keys := counterKeys(tenant, tags)

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.backendTimeout)
	defer cancel()
	// The store may come back between the check and the queueing, so try
	// again a bounded number of times.
	for range 3 {
		if c.backendAvailable() {
			err := c.store.Invalidate(ctx, keys)
			if err == nil {
				return nil
			}
			c.backendFailed(ctx, opInvalidate, "", err)
		}
		if queued, err := c.queueInvalidation(keys, tags); queued {
			return err
		}
	}
	return fmt.Errorf("cache: invalidation of tags %q failed: the store keeps failing", tags)
}

// Close stops the prober, cancels shared loads still running, waits for them
// and closes the store. Calls after the first return the first result.
func (c *Cache) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()

		c.stop()
		c.wg.Wait()
		errs := []error{c.metrics.registration.Unregister()}
		if err := c.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
		if err := errors.Join(errs...); err != nil {
			c.closeErr = fmt.Errorf("cache: close: %w", err)
		}
	})
	return c.closeErr
}

func (c *Cache) isClosed() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.closed
}

// goTracked runs fn in a goroutine that Close waits for. It returns false,
// without running fn, once Close has started.
func (c *Cache) goTracked(fn func()) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return false
	}
	c.wg.Go(fn)
	return true
}

var errEmptyTenant = errors.New(
	"cache: tenant is empty; pass the hash of the caller's effective credential")

// validate checks r and returns its normalized tags.
func (r Request) validate() ([]string, error) {
	if r.Tenant == "" {
		return nil, errEmptyTenant
	}
	if r.Procedure == "" {
		return nil, errors.New("cache: procedure is empty; pass the RPC's full name, " +
			"such as /groundcam.v1.SessionService/GetSession")
	}
	if r.Policy.TTL < 0 || r.Policy.StaleIfError < 0 {
		return nil, fmt.Errorf("cache: policy of %s has a negative duration (TTL %s, stale-if-error %s); "+
			"use zero to disable caching or stale responses", r.Procedure, r.Policy.TTL, r.Policy.StaleIfError)
	}
	tags, err := normalizeTags(r.Policy.Tags)
	if err != nil {
		return nil, fmt.Errorf("cache: policy of %s: %w", r.Procedure, err)
	}
	return tags, nil
}

// keySet holds the hashed store keys of one request.
type keySet struct {
	entry    string
	tags     []string
	counters []string
}

func newKeySet(r Request, tags []string) keySet {
	return keySet{
		entry:    entryKey(r.Tenant, r.Procedure, r.Key),
		tags:     tags,
		counters: counterKeys(r.Tenant, tags),
	}
}
