package cache

import (
	"context"
	"errors"
	"time"
)

// ErrClosed is returned by a [Cache] or a [Store] used after its Close.
var ErrClosed = errors.New("cache: closed")

// Store is the storage behind a [Cache]. [MemoryStore] keeps entries in the
// process, and [RedisStore] shares them between replicas.
//
// A store keeps two kinds of records under keys that the [Cache] has already
// hashed. Entries are opaque bytes with a lifetime. Generation counters
// exist one per (tenant, tag), and each generation is a nonzero number,
// where 0 stands for an absent counter. A store must not give a counter a
// value that the same counter had before it was deleted, evicted or
// expired, because an old entry that recorded that value would become
// valid again. An entry whose counter is absent is a miss, so a store may
// drop counters at any time at the price of extra misses.
//
// Every method must be safe for concurrent use.
type Store interface {
	// Lookup returns the entry stored under key, or nil when there is none,
	// and the current generation of each counter, in one round trip.
	Lookup(ctx context.Context, key string, counters []string) (entry []byte, gens []uint64, err error)

	// Generations returns the current generation of each counter and creates
	// the absent ones with fresh values.
	Generations(ctx context.Context, counters []string) ([]uint64, error)

	// Set stores entry under key for lifetime and keeps the counters the entry
	// depends on for at least as long, where the store expires counters.
	Set(ctx context.Context, key string, entry []byte, counters []string, lifetime time.Duration) error

	// Invalidate moves every existing counter to a new generation. Absent
	// counters stay absent, because no valid entry can depend on them.
	Invalidate(ctx context.Context, counters []string) error

	// Ping returns nil when the store is reachable.
	Ping(ctx context.Context) error

	// Close releases the store's connections and stops its background work.
	Close() error
}

// evictionCounter is implemented by stores that evict entries to stay within
// a size bound, so a [Cache] can export the count.
type evictionCounter interface {
	Evictions() uint64
}
