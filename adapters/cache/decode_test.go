package cache

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// upperDecoder counts its calls and decodes a value to its upper case, or
// fails on a value that starts with "bad".
type upperDecoder struct{ calls atomic.Int64 }

type decodedText struct{ text string }

func (d *upperDecoder) decode(value []byte) (any, error) {
	d.calls.Add(1)
	if strings.HasPrefix(string(value), "bad") {
		return nil, errors.New("unreadable value")
	}
	return &decodedText{text: strings.ToUpper(string(value))}, nil
}

func decodedOf(t *testing.T, res Result) *decodedText {
	t.Helper()
	d, ok := res.Decoded.(*decodedText)
	if !ok {
		t.Fatalf("Decoded = %#v, want a *decodedText", res.Decoded)
	}
	return d
}

func TestDoDecodesHitsOnly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		var calls atomic.Int64
		var dec upperDecoder
		r := readRequest(tenantA, getSession, sessionPolicy())
		r.Decode = dec.decode

		miss := mustDo(t, h.cache, r, countingLoad(&calls, "v1"))
		if miss.Decoded != nil || dec.calls.Load() != 0 {
			t.Errorf("miss: Decoded = %#v after %d decodes, want nil and none", miss.Decoded, dec.calls.Load())
		}
		hit := mustDo(t, h.cache, r, countingLoad(&calls, "v2"))
		checkResult(t, hit, StatusHit, "v1")
		if got := decodedOf(t, hit).text; got != "V1" {
			t.Errorf("hit decoded to %q, want %q", got, "V1")
		}

		r.Decode = nil
		if plain := mustDo(t, h.cache, r, countingLoad(&calls, "v3")); plain.Decoded != nil {
			t.Errorf("hit without Decode: Decoded = %#v, want nil", plain.Decoded)
		}
	})
}

func TestDoDecodesStaleResults(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		var calls atomic.Int64
		var dec upperDecoder
		r := readRequest(tenantA, getSession, sessionPolicy())
		r.Decode = dec.decode
		mustDo(t, h.cache, r, countingLoad(&calls, "v1"))

		h.clock.Advance(2 * time.Minute)
		stale := mustDo(t, h.cache, r, failingLoad(&calls, errUpstream))
		checkResult(t, stale, StatusStale, "v1")
		if got := decodedOf(t, stale).text; got != "V1" {
			t.Errorf("stale result decoded to %q, want %q", got, "V1")
		}
	})
}

func TestMemoryStoreSharesDecodedValue(t *testing.T) {
	t.Parallel()
	h := newHarness(t, newMemoryStore(t))
	var calls atomic.Int64
	var dec upperDecoder
	r := readRequest(tenantA, getSession, sessionPolicy())
	r.Decode = dec.decode
	mustDo(t, h.cache, r, countingLoad(&calls, "v1"))

	const hits = 32
	results := make([]*decodedText, hits)
	var wg sync.WaitGroup
	for i := range hits {
		wg.Go(func() { results[i] = decodedOf(t, mustDo(t, h.cache, r, countingLoad(&calls, "v2"))) })
	}
	wg.Wait()
	for i, d := range results {
		if d != results[0] {
			t.Fatalf("hit %d got decoded value %p, hit 0 got %p; want one value for all hits", i, d, results[0])
		}
	}
	// Hits that race on the first decode may each decode, but the entry then
	// keeps one value, and later hits decode nothing.
	before := dec.calls.Load()
	if before < 1 || before > hits {
		t.Fatalf("%d decodes for %d concurrent hits, want between 1 and %d", before, hits, hits)
	}
	mustDo(t, h.cache, r, countingLoad(&calls, "v2"))
	if after := dec.calls.Load(); after != before {
		t.Errorf("a later hit decoded again: %d decodes, want %d", after, before)
	}

	// A new entry under the same key gets a value of its own.
	h.clock.Advance(time.Minute)
	mustDo(t, h.cache, r, countingLoad(&calls, "v2"))
	if got := decodedOf(t, mustDo(t, h.cache, r, countingLoad(&calls, "v3"))).text; got != "V2" {
		t.Errorf("hit of the reloaded entry decoded to %q, want %q", got, "V2")
	}
	checkCalls(t, &calls, 2)
}

func TestDoLeavesFailedDecodeToCaller(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		var calls atomic.Int64
		var dec upperDecoder
		r := readRequest(tenantA, getSession, sessionPolicy())
		r.Decode = dec.decode
		mustDo(t, h.cache, r, countingLoad(&calls, "bad value"))

		for range 2 {
			hit := mustDo(t, h.cache, r, countingLoad(&calls, "v2"))
			checkResult(t, hit, StatusHit, "bad value")
			if hit.Decoded != nil {
				t.Errorf("Decoded = %#v after a failed decode, want nil", hit.Decoded)
			}
		}
		// A failure is not kept: each hit tries again.
		if got := dec.calls.Load(); got != 2 {
			t.Errorf("%d decodes for 2 hits of an unreadable value, want 2", got)
		}
	})
}

func TestMemoryStoreWeighsDecodedForm(t *testing.T) {
	t.Parallel()
	store := newMemoryStore(t)
	h := newHarness(t, store)
	var calls atomic.Int64
	var dec upperDecoder
	r := readRequest(tenantA, getSession, sessionPolicy())
	r.Decode = dec.decode
	value := strings.Repeat("v", 1000)
	mustDo(t, h.cache, r, countingLoad(&calls, value))

	key := newKeySet(r, r.Policy.Tags).entry
	store.entries.CleanUp()
	before, ok := store.entries.GetEntryQuietly(key)
	if !ok {
		t.Fatal("the loaded entry is not in the store")
	}
	plain := store.entries.WeightedSize()

	for range 3 {
		mustDo(t, h.cache, r, countingLoad(&calls, value))
	}
	store.entries.CleanUp()
	after, ok := store.entries.GetEntryQuietly(key)
	if !ok {
		t.Fatal("the entry is gone after its hits")
	}
	if got, want := store.entries.WeightedSize()-plain, uint64(decodedSizeFactor*len(value)); got != want {
		t.Errorf("hits added %d bytes of weight, want %d: the decoded form's estimate, once", got, want)
	}
	if after.ExpiresAtNano != before.ExpiresAtNano {
		t.Errorf("weighing the decoded form moved the expiry from %d to %d, want it unchanged",
			before.ExpiresAtNano, after.ExpiresAtNano)
	}
}

func TestMemoryStoreEvictsForDecodedForms(t *testing.T) {
	t.Parallel()
	// Four entries of 1 KiB fit, but not once one of them is decoded.
	const maxBytes = 6 << 10
	store, err := NewMemoryStore(maxBytes)
	if err != nil {
		t.Fatalf("NewMemoryStore: %v", err)
	}
	h := newHarness(t, store)
	var calls atomic.Int64
	var dec upperDecoder
	value := strings.Repeat("v", 1<<10)
	requests := make([]Request, 4)
	for i := range requests {
		requests[i] = readRequest(tenantA, getSession, sessionPolicy())
		requests[i].Key = []byte(strings.Repeat("k", i+1))
		requests[i].Decode = dec.decode
		mustDo(t, h.cache, requests[i], countingLoad(&calls, value))
	}
	store.entries.CleanUp()
	if store.Evictions() != 0 {
		t.Fatalf("%d evictions before any decode, want none", store.Evictions())
	}

	mustDo(t, h.cache, requests[0], countingLoad(&calls, value))
	store.entries.CleanUp()
	if store.Evictions() == 0 {
		t.Error("no eviction after a decode that takes the store over its bound")
	}
	if got := store.entries.WeightedSize(); got > maxBytes {
		t.Errorf("weighted size = %d bytes, want at most %d", got, maxBytes)
	}
}
