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

// decodedSizeFactor estimates the memory of an entry's decoded form, which
// its hits share (see [Request.Decode]), as a multiple of the entry's
// bytes. NOTE: an estimate. Decoded proto messages took 3.9 times their
// encoded size for a list of 3 agents. They took 5.2 times for a page of 20
// sessions, and other values may take more.
const decodedSizeFactor = 6

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
// when their total weight would exceed the bound. An entry weighs its key,
// its data and a fixed overhead, and once a hit has decoded it for a
// [Cache] (see [Request.Decode]), an estimate of the decoded form.
// Generation values come from one sequence that never repeats, so a counter
// dropped and created again never takes an old value.
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
	// decodedBytes estimates the memory of the decoded form that read
	// keeps; zero until a hit decodes the entry.
	decodedBytes int
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
		MaximumWeight:    uint64(maxBytes),
		Weigher:          weighEntry,
		ExpiryCalculator: memoryExpiry{},
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
	return uint32(min(len(key)+len(e.data)+e.decodedBytes+entryOverhead, math.MaxUint32))
}

// memoryExpiry expires an entry its lifetime after its Set. Weighing its
// decoded form does not change when it expires.
type memoryExpiry struct{}

func (memoryExpiry) ExpireAfterCreate(e otter.Entry[string, memoryEntry]) time.Duration {
	return e.Value.lifetime
}

func (memoryExpiry) ExpireAfterUpdate(e otter.Entry[string, memoryEntry], old memoryEntry) time.Duration {
	if e.Value.read != nil && e.Value.read == old.read {
		return e.ExpiresAfter()
	}
	return e.Value.lifetime
}

func (memoryExpiry) ExpireAfterRead(e otter.Entry[string, memoryEntry]) time.Duration {
	return e.ExpiresAfter()
}

// weighDecoded adds the estimated memory of read's decoded form to the
// weight of the entry under key, if read is still that entry. The store may
// then evict other entries to stay within its bound.
func (s *MemoryStore) weighDecoded(key string, read *readEntry) {
	s.entries.ComputeIfPresent(key, func(old memoryEntry) (memoryEntry, otter.ComputeOp) {
		if old.read != read || old.decodedBytes != 0 {
			return old, otter.CancelOp
		}
		old.decodedBytes = decodedSizeFactor * len(read.value)
		return old, otter.WriteOp
	})
}

// Lookup returns the entry under key and the generations of counters.
func (s *MemoryStore) Lookup(_ context.Context, key string, counters []string) ([]byte, []uint64, error) {
	e, gens, err := s.lookup(key, counters)
	return e.data, gens, err
}

// lookupRead is Lookup for a [Cache] in the same process: it returns the
// entry as read at Set, nil when there is none or it is malformed.
func (s *MemoryStore) lookupRead(key string, counters []string) (*readEntry, []uint64, error) {
	e, gens, err := s.lookup(key, counters)
	return e.read, gens, err
}

// lookup returns the entry under key, the zero entry when there is none,
// and the generations of counters.
func (s *MemoryStore) lookup(key string, counters []string) (memoryEntry, []uint64, error) {
	if s.closed.Load() {
		return memoryEntry{}, nil, ErrClosed
	}
	gens := make([]uint64, len(counters))
	for i, counter := range counters {
		gens[i], _ = s.counters.GetIfPresent(counter)
	}
	e, _ := s.entries.GetIfPresent(key)
	return e, gens, nil
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
