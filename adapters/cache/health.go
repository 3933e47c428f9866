package cache

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// maxPendingInvalidations bounds the counter keys whose invalidation waits
// for an unavailable store, about 100 bytes of memory each.
const maxPendingInvalidations = 10_000

// backendAvailable reports whether calls go to the store. While it is false
// every read loads uncached and a prober pings the store.
func (c *Cache) backendAvailable() bool {
	return !c.down.Load()
}

// backendFailed counts a failed store call and, on the first failure after a
// healthy period, logs the outage once and starts the prober. Failures after
// Close has started are expected and ignored.
func (c *Cache) backendFailed(ctx context.Context, operation, procedure string, err error) {
	if c.closing.Err() != nil {
		return
	}
	c.metrics.backendError(ctx, operation, procedure)
	if !c.down.CompareAndSwap(false, true) {
		return
	}
	c.logger.WarnContext(ctx, "cache store unavailable; reads go uncached until a ping succeeds",
		"operation", operation, "error", err)
	c.goTracked(c.probe)
}

// probe pings the store every probe interval until a ping succeeds, replays the
// invalidations that failed meanwhile and marks the store available. It
// returns early when the cache closes.
func (c *Cache) probe() {
	ticker := c.clock.NewTicker(c.probeInterval)
	defer ticker.Stop()
	for {
		select {
		case <-c.closing.Done():
			return
		case <-ticker.Chan():
		}
		if c.tryRecover() {
			c.logger.InfoContext(c.closing, "cache store available again; caching resumed")
			return
		}
	}
}

// tryRecover pings the store and replays pending invalidations. It marks
// the store available, under the lock that queueInvalidation takes, only
// once nothing is pending, so no queued invalidation is left behind.
func (c *Cache) tryRecover() bool {
	ctx, cancel := context.WithTimeout(c.closing, c.backendTimeout)
	defer cancel()
	if err := c.store.Ping(ctx); err != nil {
		c.metrics.backendError(ctx, opPing, "")
		return false
	}
	for {
		c.pendingMu.Lock()
		if len(c.pending) == 0 {
			c.down.Store(false)
			c.pendingMu.Unlock()
			return true
		}
		keys := slices.Collect(maps.Keys(c.pending))
		c.pendingMu.Unlock()

		if err := c.store.Invalidate(ctx, keys); err != nil {
			c.metrics.backendError(ctx, opInvalidate, "")
			return false
		}
		c.pendingMu.Lock()
		for _, key := range keys {
			delete(c.pending, key)
		}
		c.pendingMu.Unlock()
	}
}

// queueInvalidation keeps counter keys for the prober to invalidate once the
// store is back. It returns false when the store is available again, so the
// caller should call the store directly.
func (c *Cache) queueInvalidation(keys []string, tags []string) (bool, error) {
	c.pendingMu.Lock()
	defer c.pendingMu.Unlock()
	if !c.down.Load() {
		return false, nil
	}
	if len(c.pending)+len(keys) > maxPendingInvalidations {
		return true, fmt.Errorf("cache: invalidation of tags %q lost: the store is unavailable "+
			"and %d invalidations already wait for it; entries with these tags may be served "+
			"until their TTL ends", tags, len(c.pending))
	}
	if c.pending == nil {
		c.pending = make(map[string]struct{})
	}
	for _, key := range keys {
		c.pending[key] = struct{}{}
	}
	return true, nil
}
