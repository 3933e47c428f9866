package server

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/groundcam/groundcam-gateway/adapters/cache"
)

func TestCacheStaleIfError(t *testing.T) {
	t.Parallel()
	// ListSessions caches for 5 seconds and may serve stale data for 60
	// more when the upstream fails.
	steps := []struct {
		age    time.Duration
		status int // the upstream's injected failure
		stale  bool
	}{
		{10 * time.Second, http.StatusServiceUnavailable, true},
		{30 * time.Second, http.StatusTooManyRequests, true},
		{40 * time.Second, http.StatusNotFound, false}, // not an upstream failure
		{65 * time.Second, http.StatusServiceUnavailable, true},
		{66 * time.Second, http.StatusServiceUnavailable, false},
	}
	for _, face := range cacheFaces {
		t.Run(string(face), func(t *testing.T) {
			t.Parallel()
			up := startCacheUpstream(t, nil)
			g := newCacheGateway(t, up, cacheGatewayConfig{})
			call := callListSessions()
			first := g.read(t, face, call, up.acme.Key, cache.StatusMiss)

			elapsed := time.Duration(0)
			for i, step := range steps {
				g.clock.Advance(step.age - elapsed)
				elapsed = step.age
				up.fail(t, "/v1/sessions", step.status)

				reply := g.do(t, face, call, up.acme.Key, nil)
				checkCalls(t, up, call, i+2)
				if !step.stale {
					if !reply.failed() {
						t.Errorf("%s at age %s with upstream %d: got %s %q, want the error",
							face, step.age, step.status, HeaderCache, reply.header.Get(HeaderCache))
					}
					continue
				}
				if reply.failed() {
					t.Errorf("%s at age %s with upstream %d failed: %s", face, step.age, step.status, reply.failure())
					continue
				}
				if got := reply.header.Get(HeaderCache); got != string(cache.StatusStale) {
					t.Errorf("%s at age %s: %s is %q, want %q", face, step.age, HeaderCache, got, cache.StatusStale)
				}
				checkAge(t, face, call, reply, strconv.Itoa(int(step.age/time.Second)))
				if !reply.sameResponse(first) {
					t.Errorf("%s at age %s: stale response differs from the cached one:\n%s\nwant\n%s",
						face, step.age, reply.body, first.body)
				}
			}
		})
	}
}

func TestCacheUnavailableErrorWithoutEntry(t *testing.T) {
	t.Parallel()
	for _, face := range cacheFaces {
		t.Run(string(face), func(t *testing.T) {
			t.Parallel()
			up := startCacheUpstream(t, nil)
			g := newCacheGateway(t, up, cacheGatewayConfig{})
			up.fail(t, "/v1/sessions", http.StatusServiceUnavailable)
			reply := g.do(t, face, callListSessions(), up.acme.Key, nil)
			if !reply.unavailable() {
				t.Errorf("%s: cold read during an upstream 503 returned %q, want unavailable", face, reply.failure())
			}
		})
	}
}

func TestCacheScreenshotsNeverPastPolicy(t *testing.T) {
	t.Parallel()
	// GetSessionScreenshots caches for 30 seconds and never serves stale
	// data, because its download URLs expire.
	for _, face := range cacheFaces {
		t.Run(string(face), func(t *testing.T) {
			t.Parallel()
			up := startCacheUpstream(t, nil)
			session := up.sessionID(t, up.acme.Key, "active")
			up.sim.ResetCalls()
			g := newCacheGateway(t, up, cacheGatewayConfig{})
			call := callGetSessionScreenshots(session)

			first := g.read(t, face, call, up.acme.Key, cache.StatusMiss)
			// A screenshot taken behind the gateway shows only once the
			// entry has expired.
			up.send(t, "", http.MethodPost, "/_sim/sessions/"+session+"/screenshots", `{}`)

			g.clock.Advance(29 * time.Second)
			cached := g.read(t, face, call, up.acme.Key, cache.StatusHit)
			checkAge(t, face, call, cached, "29")
			if !cached.sameResponse(first) {
				t.Errorf("%s: hit differs from the cached response", face)
			}

			g.clock.Advance(time.Second)
			fresh := g.read(t, face, call, up.acme.Key, cache.StatusMiss)
			checkCalls(t, up, call, 2)
			if fresh.sameResponse(first) {
				t.Errorf("%s: the read at the TTL returned the old list: %s", face, fresh.body)
			}

			g.clock.Advance(31 * time.Second)
			up.fail(t, "/v1/sessions/"+session+"/screenshots", http.StatusServiceUnavailable)
			if reply := g.do(t, face, call, up.acme.Key, nil); !reply.unavailable() {
				t.Errorf("%s: read past the TTL during an upstream 503 returned %s %q, want unavailable",
					face, HeaderCache, reply.header.Get(HeaderCache))
			}
			checkCalls(t, up, call, 3)
		})
	}
}
