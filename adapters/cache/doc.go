// Package cache is the gateway's response cache for read RPCs, safe for many
// tenants and many replicas.
//
// A [Cache] wraps the load of one read. [Cache.Do] takes a [Request] with
// the tenant (a hash of the caller's credential), the procedure, the request
// in deterministic proto encoding and the RPC's [Policy]. It returns a
// [Result] with a [Status] of hit, miss, stale or bypass. Writes are never cached: after a successful write the caller calls
// [Cache.Invalidate] with the write's tags.
//
// # Keys
//
// An entry's key is a SHA-256 over the tenant, the procedure and the request
// bytes, so tenants never share entries and neither the tenant nor the
// request reaches the store.
//
// # Invalidation
//
// Each (tenant, tag) pair has a generation counter in the store. An entry
// records the generations of its tags as they were before its load started,
// and is current only while every counter still has that value. An
// invalidation moves the counters, which turns every entry of the tenant
// with one of the tags into a miss, for all procedures and, with a
// [RedisStore], for all replicas. The lookup reads the entry and the
// counters in one round trip. An absent counter never matches, so a store
// may drop counters to bound its memory at the price of extra misses.
//
// # Loads
//
// Concurrent misses of one key and generations share one load, which runs
// detached from every caller's cancellation and is bounded by the load
// timeout. Load errors are returned and never stored. When a load fails
// with an upstream failure (see [WithStaleError]) and the entry is at most
// TTL plus the stale-if-error window old, the entry is served as
// [StatusStale].
//
// A [Request] with Bypass set skips the lookup and loads on its own, but
// stores the response on success: a client that asks for a fresh response
// gets one, and the readers after it benefit from it.
//
// # Outages
//
// When the store fails, the cache logs the outage once, counts the error
// and serves reads uncached, loading each time. A prober pings the store
// and resumes caching once it responds, logging that once too. Invalidations
// made during the outage are queued, bounded, and replayed before caching
// resumes.
//
// # Bounds
//
// A [MemoryStore] bounds its entries by total bytes and its counters by
// number ([WithMaxCounters]). A [RedisStore] gives entries a PX expiry of
// TTL plus the stale-if-error window and counters an expiry of
// [DefaultCounterTTL] or more, and leaves memory limits to the server.
package cache
