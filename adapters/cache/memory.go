package cache

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
)

// DefaultMaxCounters is the default bound on the generation counters a
// [MemoryStore] keeps, one per (tenant, tag) pair that was read. A counter
// takes an estimated 200 bytes (a 64-byte key, the value and otter's
// bookkeeping), so the default bound is about 20 MB.
const DefaultMaxCounters = 100_000

// entryOverhead estimates the bytes a [MemoryStore] spends on an entry
// besides its key and data: the otter node, the slice header and the map
// slot. The byte bound counts it, so many tiny entries cannot exceed it.
const entryOverhead = 128

// MemoryOption configures a [MemoryStore].
type MemoryOption func(*memoryConfig)

type memoryConfig struct {
	maxCounters int
}

// WithMaxCounters bounds the generation counters the store keeps. When the
// bound is reached the least useful counters are dropped, and entries that
// depend on a dropped counter become misses. The default is
// [DefaultMaxCounters].
func WithMaxCounters(n int) MemoryOption {
	return func(c *memoryConfig) { c.maxCounters = n }
}

// MemoryStore is a [Store] in process memory, bounded by the total bytes of
// its entries. It is the default store of a single gateway replica.
//
// Entries expire after their lifetime and are evicted, least useful first,
// when their total weight (key, data and a fixed overhead) would exceed the
// bound. Generation values come from one sequence that never repeats, so a
// counter dropped and created again never takes an old value.
type MemoryStore struct {
	entries   *otter.Cache[string, memoryEntry]
	counters  *otter.Cache[string, uint64]
	sequence  atomic.Uint64
	evictions atomic.Uint64
	closed    atomic.Bool
}

var _ Store = (*MemoryStore)(nil)

type memoryEntry struct {
	data     []byte
	lifetime time.Duration
	// read is data read once, at Set, and shared by every hit; nil when
	// data is malformed.
	read *readEntry
}

// NewMemoryStore returns a store whose entries take at most maxBytes.
func NewMemoryStore(maxBytes int64, opts ...MemoryOption) (*MemoryStore, error) {
	cfg := memoryConfig{maxCounters: DefaultMaxCounters}
	for _, opt := range opts {
		opt(&cfg)
	}
	if maxBytes <= 0 {
		return nil, fmt.Errorf("cache: memory store size must be positive, got %d bytes", maxBytes)
	}
	if cfg.maxCounters <= 0 {
		return nil, fmt.Errorf("cache: memory store counter bound must be positive, got %d", cfg.maxCounters)
	}

	s := &MemoryStore{}
	entries, err := otter.New(&otter.Options[string, memoryEntry]{
		MaximumWeight: uint64(maxBytes),
		Weigher:       weighEntry,
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, memoryEntry]) time.Duration {
			return e.Value.lifetime
		}),
		OnAtomicDeletion: func(e otter.DeletionEvent[string, memoryEntry]) {
			if e.Cause == otter.CauseOverflow {
				s.evictions.Add(1)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("cache: create memory store: %w", err)
	}
	counters, err := otter.New(&otter.Options[string, uint64]{MaximumSize: cfg.maxCounters})
	if err != nil {
		entries.StopAllGoroutines()
		return nil, fmt.Errorf("cache: create memory store counters: %w", err)
	}
	s.entries, s.counters = entries, counters
	return s, nil
}

func weighEntry(key string, e memoryEntry) uint32 {
	return uint32(min(len(key)+len(e.data)+entryOverhead, math.MaxUint32))
}

// Lookup returns the entry under key and the generations of counters.
func (s *MemoryStore) Lookup(_ context.Context, key string, counters []string) ([]byte, []uint64, error) {
	if s.closed.Load() {
		return nil, nil, ErrClosed
	}
	gens := make([]uint64, len(counters))
	for i, counter := range counters {
		gens[i], _ = s.counters.GetIfPresent(counter)
	}
	e, ok := s.entries.GetIfPresent(key)
	if !ok {
		return nil, gens, nil
	}
	return e.data, gens, nil
}

// lookupRead is Lookup for a [Cache] in the same process: it returns the
// entry as read at Set, nil when there is none or it is malformed.
func (s *MemoryStore) lookupRead(key string, counters []string) (*readEntry, []uint64, error) {
	if s.closed.Load() {
		return nil, nil, ErrClosed
	}
	gens := make([]uint64, len(counters))
	for i, counter := range counters {
		gens[i], _ = s.counters.GetIfPresent(counter)
	}
	e, ok := s.entries.GetIfPresent(key)
	if !ok {
		return nil, gens, nil
	}
	return e.read, gens, nil
}

// Generations returns the generations of counters, creating absent ones.
func (s *MemoryStore) Generations(_ context.Context, counters []string) ([]uint64, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	gens := make([]uint64, len(counters))
	for i, counter := range counters {
		gens[i], _ = s.counters.SetIfAbsent(counter, s.sequence.Add(1))
	}
	return gens, nil
}

// Set stores entry under key for lifetime. The store keeps entry, so the
// caller must not modify it afterwards. Counters do not expire here.
func (s *MemoryStore) Set(_ context.Context, key string, entry []byte, _ []string, lifetime time.Duration) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if lifetime <= 0 {
		return nil
	}
	stored := memoryEntry{data: entry, lifetime: lifetime}
	if e, err := decodeEntry(entry); err == nil {
		stored.read = &readEntry{entry: e}
	}
	s.entries.Set(key, stored)
	return nil
}

// Invalidate moves every existing counter to a new generation.
func (s *MemoryStore) Invalidate(_ context.Context, counters []string) error {
	if s.closed.Load() {
		return ErrClosed
	}
	for _, counter := range counters {
		s.counters.ComputeIfPresent(counter, func(uint64) (uint64, otter.ComputeOp) {
			return s.sequence.Add(1), otter.WriteOp
		})
	}
	return nil
}

// Ping returns nil until the store is closed.
func (s *MemoryStore) Ping(context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Evictions returns how many entries were evicted to stay within the byte
// bound. Expired entries are not counted.
func (s *MemoryStore) Evictions() uint64 {
	return s.evictions.Load()
}

// Close stops the store's periodic clean-up and drops its entries. Later
// calls return [ErrClosed].
func (s *MemoryStore) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	s.entries.StopAllGoroutines()
	s.entries.InvalidateAll()
	s.counters.InvalidateAll()
	return nil
}

var _ evictionCounter = (*MemoryStore)(nil)

// asMemoryStore returns store as a [MemoryStore], whose calls return
// without waiting on anything, or nil.
func asMemoryStore(store Store) *MemoryStore {
	s, _ := store.(*MemoryStore)
	return s
}
