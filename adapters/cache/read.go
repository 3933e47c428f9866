package cache

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// lookupOrLoad serves r from a fresh current entry, else from a shared load,
// else from a stale entry when the load failed upstream.
func (c *Cache) lookupOrLoad(ctx context.Context, r Request, keys keySet, load LoadFunc) (Result, error) {
	cached, gens, err := c.lookup(ctx, r, keys)
	if err != nil {
		return Result{}, err
	}
	if cached != nil {
		if age := cached.age(c.clock.Now()); age < r.Policy.TTL {
			return Result{Value: cached.value, Status: StatusHit, Age: age, Decoded: c.decode(r, keys, cached)}, nil
		}
	}
	// Absent counters are created before joining a flight, so that callers
	// that read them before and after the creation share one flight.
	if gens != nil && slices.Contains(gens, 0) {
		gens = c.generations(ctx, r, keys)
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
	}

	value, err := c.loadShared(ctx, r, keys, gens, load)
	if err == nil {
		return Result{Value: value, Status: StatusMiss}, nil
	}
	if ctx.Err() != nil || cached == nil || !c.isUpstreamFailure(err) {
		return Result{Status: StatusMiss}, err
	}
	age := cached.age(c.clock.Now())
	if r.Policy.StaleIfError == 0 || age > r.Policy.TTL+r.Policy.StaleIfError {
		return Result{Status: StatusMiss}, err
	}
	return Result{Value: cached.value, Status: StatusStale, Age: age, Decoded: c.decode(r, keys, cached)}, nil
}

// decode returns r.Decode's result for a found entry. A MemoryStore entry
// keeps the first result, and its weight grows by an estimate of it.
func (c *Cache) decode(r Request, keys keySet, cached *readEntry) any {
	v, stored := cached.decode(r.Decode)
	if stored && c.memory != nil {
		c.memory.weighDecoded(keys.entry, cached)
	}
	return v
}

// lookup reads the entry of keys and the current generations of its tags.
// It returns nil for an absent, malformed or outdated entry. A store
// failure is handled here and leaves gens nil, which makes the read
// uncached. Only the caller's own cancellation is returned as an error.
func (c *Cache) lookup(ctx context.Context, r Request, keys keySet) (*readEntry, []uint64, error) {
	if !c.backendAvailable() {
		return nil, nil, nil
	}
	var (
		cached *readEntry
		gens   []uint64
		err    error
	)
	if c.memory != nil {
		cached, gens, err = c.memory.lookupRead(keys.entry, keys.counters)
	} else {
		cached, gens, err = c.lookupRemote(ctx, keys)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		c.backendFailed(ctx, opLookup, r.Procedure, err)
		return nil, nil, nil
	}
	if cached == nil || !cached.current(keys.tags, gens) {
		return nil, gens, nil
	}
	return cached, gens, nil
}

// lookupRemote reads the entry of keys from a store that may wait, within
// the backend timeout. A malformed entry is a miss, and the next store
// overwrites it.
func (c *Cache) lookupRemote(ctx context.Context, keys keySet) (*readEntry, []uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, c.backendTimeout)
	defer cancel()
	raw, gens, err := c.store.Lookup(ctx, keys.entry, keys.counters)
	if err != nil || raw == nil {
		return nil, gens, err
	}
	e, err := decodeEntry(raw)
	if err != nil {
		return nil, gens, nil
	}
	return &readEntry{entry: e}, gens, nil
}

// loadShared joins or starts the flight of the key and generations, and
// waits for it or for ctx. Callers that read other generations, such as
// after an invalidation, start their own flight, so no caller gets a
// response loaded before an invalidation it has seen. A nil gens marks a read that
// the store could not serve.
func (c *Cache) loadShared(ctx context.Context, r Request, keys keySet, gens []uint64, load LoadFunc) ([]byte, error) {
	name := flightName(keys.entry, gens)
	f, leader := c.flights.join(name)
	if leader {
		started := c.goTracked(func() {
			value, err := c.runFlight(ctx, r, keys, gens, load)
			c.flights.finish(name, f, value, err)
		})
		if !started {
			c.flights.finish(name, f, nil, ErrClosed)
		}
	}
	select {
	case <-f.done:
		return f.value, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func flightName(entryKey string, gens []uint64) string {
	var b strings.Builder
	b.WriteString(entryKey)
	if gens == nil {
		b.WriteString("/uncached")
	}
	for _, gen := range gens {
		b.WriteByte('/')
		b.WriteString(strconv.FormatUint(gen, 10))
	}
	return b.String()
}

// runFlight loads and stores one response for all waiters. It keeps the
// leader's context values but not its cancellation, and ends at the load
// timeout or when the cache closes.
func (c *Cache) runFlight(leaderCtx context.Context, r Request, keys keySet, gens []uint64, load LoadFunc) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(leaderCtx), c.loadTimeout)
	defer cancel()
	stop := context.AfterFunc(c.closing, cancel)
	defer stop()

	startedAt := c.clock.Now()
	value, err := c.callLoad(ctx, r, load)
	if err != nil {
		return nil, err
	}
	if gens != nil {
		c.storeEntry(ctx, r, keys, entry{storedAt: startedAt, tags: keys.tags, gens: gens, value: value})
	}
	return value, nil
}

// bypass loads r without a lookup and stores the response on success.
// No other caller shares a bypassing load, because its caller requested a
// response loaded after its request, so the load runs under the caller's
// context.
func (c *Cache) bypass(ctx context.Context, r Request, keys keySet, load LoadFunc) (Result, error) {
	var gens []uint64
	if c.backendAvailable() {
		gens = c.generations(ctx, r, keys)
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
	}
	startedAt := c.clock.Now()
	value, err := c.callLoad(ctx, r, load)
	if err != nil {
		return Result{Status: StatusBypass}, err
	}
	if gens != nil {
		storeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.backendTimeout)
		defer cancel()
		c.storeEntry(storeCtx, r, keys, entry{storedAt: startedAt, tags: keys.tags, gens: gens, value: value})
	}
	return Result{Value: value, Status: StatusBypass}, nil
}

// loadUncached serves a read whose policy has no TTL.
func (c *Cache) loadUncached(ctx context.Context, r Request, load LoadFunc) (Result, error) {
	value, err := c.callLoad(ctx, r, load)
	if err != nil {
		return Result{Status: StatusBypass}, err
	}
	return Result{Value: value, Status: StatusBypass}, nil
}

// generations reads the generations of keys, creating absent counters. It
// returns nil when the store fails, so the response is not stored.
func (c *Cache) generations(ctx context.Context, r Request, keys keySet) []uint64 {
	genCtx, cancel := context.WithTimeout(ctx, c.backendTimeout)
	defer cancel()
	gens, err := c.store.Generations(genCtx, keys.counters)
	if err != nil {
		if ctx.Err() == nil {
			c.backendFailed(ctx, opGenerations, r.Procedure, err)
		}
		return nil
	}
	return gens
}

// storeEntry stores e for TTL plus the stale-if-error window. The response
// is already loaded, so a failure is only counted and logged.
func (c *Cache) storeEntry(ctx context.Context, r Request, keys keySet, e entry) {
	setCtx, cancel := context.WithTimeout(ctx, c.backendTimeout)
	defer cancel()
	lifetime := r.Policy.TTL + r.Policy.StaleIfError
	if err := c.store.Set(setCtx, keys.entry, e.encode(), keys.counters, lifetime); err != nil {
		c.backendFailed(ctx, opSet, r.Procedure, err)
	}
}

// callLoad calls load and turns a panic into an error, because a panic in a
// shared load runs on a goroutine that no caller's recovery covers.
func (c *Cache) callLoad(ctx context.Context, r Request, load LoadFunc) (value []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			c.logger.ErrorContext(ctx, "cache load panicked",
				"procedure", r.Procedure, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("cache: load of %s panicked: %v", r.Procedure, p)
		}
	}()
	return load(ctx)
}
