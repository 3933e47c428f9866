package cache

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestMemoryStoreEvictionsCounted(t *testing.T) {
	t.Parallel()
	const maxBytes = 16 << 10
	store, err := NewMemoryStore(maxBytes)
	if err != nil {
		t.Fatalf("NewMemoryStore: %v", err)
	}
	h := newHarness(t, store)

	var calls atomic.Int64
	value := string(bytes.Repeat([]byte("x"), 1<<10))
	for i := range 64 {
		r := readRequest(tenantA, getSession, sessionPolicy())
		r.Key = fmt.Appendf(nil, "session_id:s-%d", i)
		mustDo(t, h.cache, r, countingLoad(&calls, value))
	}
	// Evictions happen in the store's maintenance, which may still be queued.
	store.entries.CleanUp()

	if got := store.entries.WeightedSize(); got > maxBytes {
		t.Errorf("weighted size = %d bytes, want at most %d", got, maxBytes)
	}
	evictions := h.counter(t, "gateway.cache.evictions")
	if evictions == 0 {
		t.Error("evictions metric = 0, want evictions after writing 64 KiB into 16 KiB")
	}
	if uint64(evictions) != store.Evictions() {
		t.Errorf("evictions metric = %d, store counted %d", evictions, store.Evictions())
	}
}

func TestMemoryStoreDroppedCounterIsMiss(t *testing.T) {
	t.Parallel()
	store := newMemoryStore(t)
	h := newHarness(t, store)
	var calls atomic.Int64
	r := readRequest(tenantA, getSession, sessionPolicy())
	mustDo(t, h.cache, r, countingLoad(&calls, "v1"))

	// A counter dropped by the bound and created again gets a new value.
	store.counters.Invalidate(counterKeys(tenantA, []string{"sessions"})[0])
	checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, "v2")), StatusMiss, "v2")
	checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, "v3")), StatusHit, "v2")
}

func TestMemoryStoreGenerationsNeverRepeat(t *testing.T) {
	t.Parallel()
	store, err := NewMemoryStore(1<<20, WithMaxCounters(10))
	if err != nil {
		t.Fatalf("NewMemoryStore: %v", err)
	}
	defer store.Close()
	ctx := context.Background()

	seen := make(map[uint64]bool)
	for i := range 100 {
		counter := fmt.Sprintf("counter-%d", i%20)
		gens, err := store.Generations(ctx, []string{counter})
		if err != nil {
			t.Fatalf("Generations: %v", err)
		}
		if err := store.Invalidate(ctx, []string{counter}); err != nil {
			t.Fatalf("Invalidate: %v", err)
		}
		after, _, err := store.Lookup(ctx, "absent", []string{counter})
		if err != nil || after != nil {
			t.Fatalf("Lookup of an absent entry = %q, %v", after, err)
		}
		if gens[0] == 0 {
			t.Fatalf("generation of %s is 0 right after its creation", counter)
		}
		if seen[gens[0]] {
			t.Fatalf("generation %d handed out twice", gens[0])
		}
		seen[gens[0]] = true
	}
}

func TestNewMemoryStoreRejectsInvalidBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		maxBytes int64
		opts     []MemoryOption
		message  string
	}{
		{"zero size", 0, nil, "size must be positive, got 0 bytes"},
		{"negative size", -1, nil, "size must be positive, got -1 bytes"},
		{"zero counters", 1 << 20, []MemoryOption{WithMaxCounters(0)}, "counter bound must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewMemoryStore(tt.maxBytes, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error = %v, want one containing %q", err, tt.message)
			}
		})
	}
}

func TestMemoryStoreAfterClose(t *testing.T) {
	t.Parallel()
	store := newMemoryStore(t)
	if err := store.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := store.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ctx := context.Background()
	if err := store.Set(ctx, "k", []byte("v"), nil, time.Minute); err != ErrClosed {
		t.Errorf("Set after Close: error = %v, want ErrClosed", err)
	}
	if _, _, err := store.Lookup(ctx, "k", nil); err != ErrClosed {
		t.Errorf("Lookup after Close: error = %v, want ErrClosed", err)
	}
	if err := store.Ping(ctx); err != ErrClosed {
		t.Errorf("Ping after Close: error = %v, want ErrClosed", err)
	}
}
