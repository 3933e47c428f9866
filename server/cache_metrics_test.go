package server

import (
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/groundcam/groundcam-gateway/adapters/cache"
)

func TestCacheMetricsCountStatuses(t *testing.T) {
	t.Parallel()
	up := startCacheUpstream(t, nil)
	g := newCacheGateway(t, up, cacheGatewayConfig{})
	key := up.acme.Key
	credits, sessions := callGetCredits(), callListSessions()
	noCache := http.Header{"Cache-Control": {"no-cache"}}

	// GetCredits: a miss, two hits on both faces, one bypass.
	g.read(t, faceConnect, credits, key, cache.StatusMiss)
	g.read(t, faceConnect, credits, key, cache.StatusHit)
	g.read(t, faceREST, credits, key, cache.StatusHit)
	g.readWith(t, faceREST, credits, key, noCache, cache.StatusBypass)
	// ListSessions: a miss, then a stale response past its 5-second TTL.
	g.read(t, faceConnect, sessions, key, cache.StatusMiss)
	g.clock.Advance(10 * time.Second)
	up.fail(t, "/v1/sessions", http.StatusServiceUnavailable)
	g.read(t, faceConnect, sessions, key, cache.StatusStale)
	// An upstream failure without a usable entry is a miss too.
	g.clock.Advance(time.Minute)
	up.fail(t, "/v1/sessions", http.StatusServiceUnavailable)
	if reply := g.do(t, faceREST, sessions, key, nil); !reply.unavailable() {
		t.Fatalf("read past the stale window during a 503 returned %s, want unavailable", reply.failure())
	}

	const (
		creditsProcedure  = "/groundcam.v1.CreditService/GetCredits"
		sessionsProcedure = "/groundcam.v1.SessionService/ListSessions"
	)
	tests := []struct {
		metric    string
		procedure string
		want      int64
	}{
		{"gateway.cache.misses", creditsProcedure, 1},
		{"gateway.cache.hits", creditsProcedure, 2},
		{"gateway.cache.bypasses", creditsProcedure, 1},
		{"gateway.cache.stale", creditsProcedure, 0},
		{"gateway.cache.misses", sessionsProcedure, 2},
		{"gateway.cache.hits", sessionsProcedure, 0},
		{"gateway.cache.stale", sessionsProcedure, 1},
		{"gateway.cache.backend.errors", "", 0},
	}
	for _, tt := range tests {
		var match []attribute.KeyValue
		if tt.procedure != "" {
			match = append(match, attribute.String("rpc.method", tt.procedure))
		}
		if got := g.metric(t, tt.metric, match...); got != tt.want {
			t.Errorf("%s{rpc.method=%q} = %d, want %d", tt.metric, tt.procedure, got, tt.want)
		}
	}
	if got := g.metric(t, "gateway.cache.backend.up"); got != 1 {
		t.Errorf("gateway.cache.backend.up = %d, want 1", got)
	}
}

func TestCacheMetricsCountEvictions(t *testing.T) {
	t.Parallel()
	const maxBytes = 4 << 10
	store, err := cache.NewMemoryStore(maxBytes)
	if err != nil {
		t.Fatalf("NewMemoryStore: %v", err)
	}
	up := startCacheUpstream(t, nil)
	g := newCacheGateway(t, up, cacheGatewayConfig{store: store})

	// Each page size is another request, so each read stores an entry. The
	// store evicts in its maintenance, which later writes trigger, so the
	// loop reads until an eviction is counted.
	for limit := int32(1); ; limit++ {
		g.read(t, faceConnect, callListSessionsLimit(limit), up.acme.Key, cache.StatusMiss)
		if g.metric(t, "gateway.cache.evictions") > 0 {
			break
		}
		if limit == 100 {
			t.Fatalf("no eviction counted after 100 list pages in a %d-byte store (store counted %d)",
				maxBytes, store.Evictions())
		}
	}
	if got, want := g.metric(t, "gateway.cache.evictions"), int64(store.Evictions()); got > want {
		t.Errorf("gateway.cache.evictions = %d, more than the %d evictions the store made", got, want)
	}
}
