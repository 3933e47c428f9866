package cache

import (
	"context"
	"sync/atomic"
	"testing"
)

// BenchmarkDoHit measures a read served from a fresh entry, including the
// key hashing, the store round trip and the entry decoding.
func BenchmarkDoHit(b *testing.B) {
	for _, backend := range backends() {
		b.Run(backend.name, func(b *testing.B) {
			store := backend.newStore(b)
			c, err := New(store)
			if err != nil {
				b.Fatalf("New: %v", err)
			}
			b.Cleanup(func() { _ = c.Close() })

			var calls atomic.Int64
			r := readRequest(tenantA, getSession, sessionPolicy())
			load := countingLoad(&calls, "a response of a few dozen bytes")
			if _, err := c.Do(context.Background(), r, load); err != nil {
				b.Fatalf("Do: %v", err)
			}
			b.ReportAllocs()
			for b.Loop() {
				res, err := c.Do(context.Background(), r, load)
				if err != nil || res.Status != StatusHit {
					b.Fatalf("Do = %q, %v, want a hit", res.Status, err)
				}
			}
		})
	}
}
