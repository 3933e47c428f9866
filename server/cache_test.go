package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/groundcam/groundcam-gateway/adapters/cache"
)

func TestCacheRepeatedReadsHit(t *testing.T) {
	t.Parallel()
	for _, face := range cacheFaces {
		t.Run(string(face), func(t *testing.T) {
			t.Parallel()
			up := startCacheUpstream(t, nil)
			g := newCacheGateway(t, up, cacheGatewayConfig{})
			key := up.acme.Key
			reads := []cacheCall{
				callGetOrganization(), callGetCredits(), callVerifyAPIKey(), callListAgents(),
				callListClosureTypes(), callListTags(), callGetStats(), callListSessions(),
				callGetSession(up.sessionID(t, key, "completed")), callListAppointments(), callListWebhooks(),
			}
			up.sim.ResetCalls()
			for _, call := range reads {
				first := g.read(t, face, call, key, cache.StatusMiss)
				checkAge(t, face, call, first, "")
				checkCalls(t, up, call, 1)
			}

			// Every policy's TTL is at least 5 seconds.
			g.clock.Advance(4 * time.Second)
			for _, call := range reads {
				again := g.read(t, face, call, key, cache.StatusHit)
				checkAge(t, face, call, again, "4")
				checkCalls(t, up, call, 1)
			}
		})
	}
}

func TestCacheFacesShareEntries(t *testing.T) {
	t.Parallel()
	up := startCacheUpstream(t, nil)
	g := newCacheGateway(t, up, cacheGatewayConfig{})
	key := up.acme.Key

	organization := callGetOrganization()
	viaConnect := g.read(t, faceConnect, organization, key, cache.StatusMiss)
	viaREST := g.read(t, faceREST, organization, key, cache.StatusHit)
	checkCalls(t, up, organization, 1)
	if !strings.Contains(viaConnect.body, up.acme.OrganizationName) ||
		!strings.Contains(viaREST.body, up.acme.OrganizationName) {
		t.Errorf("responses lack the organization name %q:\nConnect: %s\nREST: %s",
			up.acme.OrganizationName, viaConnect.body, viaREST.body)
	}

	credits := callGetCredits()
	g.read(t, faceREST, credits, key, cache.StatusMiss)
	g.read(t, faceConnect, credits, key, cache.StatusHit)
	checkCalls(t, up, credits, 1)

	// The key is the request message, so the order of query parameters
	// does not matter.
	page := callListSessionsLimit(3)
	page.path = "/v1/sessions?limit=3&status=completed"
	g.read(t, faceREST, page, key, cache.StatusMiss)
	page.path = "/v1/sessions?status=completed&limit=3"
	g.read(t, faceREST, page, key, cache.StatusHit)
	page.path = "/v1/sessions?status=active&limit=3"
	g.read(t, faceREST, page, key, cache.StatusMiss)
	checkCalls(t, up, page, 2)
}

func TestCacheTenantIsolation(t *testing.T) {
	t.Parallel()
	for _, face := range cacheFaces {
		t.Run(string(face), func(t *testing.T) {
			t.Parallel()
			up := startCacheUpstream(t, nil)
			g := newCacheGateway(t, up, cacheGatewayConfig{})
			call := callGetOrganization()
			tenants := []struct{ own, other string }{
				{up.acme.OrganizationName, up.bistro.OrganizationName},
				{up.bistro.OrganizationName, up.acme.OrganizationName},
			}
			keys := []string{up.acme.Key, up.bistro.Key}

			// The same request with two keys reaches the upstream twice.
			for i, key := range keys {
				reply := g.read(t, face, call, key, cache.StatusMiss)
				checkCalls(t, up, call, i+1)
				checkOrganization(t, face, reply, tenants[i].own, tenants[i].other)
			}
			// Each key's repeat is a hit with its own organization's data.
			for i, key := range keys {
				reply := g.read(t, face, call, key, cache.StatusHit)
				checkOrganization(t, face, reply, tenants[i].own, tenants[i].other)
			}
			checkCalls(t, up, call, 2)
		})
	}
}

// checkOrganization fails the test unless reply names the organization own
// and not other.
func checkOrganization(t *testing.T, face cacheFace, reply cacheReply, own, other string) {
	t.Helper()
	if !strings.Contains(reply.body, own) {
		t.Errorf("%s: response lacks the caller's organization %q: %s", face, own, reply.body)
	}
	if strings.Contains(reply.body, other) {
		t.Errorf("%s: response names another organization, %q: %s", face, other, reply.body)
	}
}

func TestCacheUpstreamErrorsNotCached(t *testing.T) {
	t.Parallel()
	for _, face := range cacheFaces {
		for _, status := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
			t.Run(fmt.Sprintf("%s/%d", face, status), func(t *testing.T) {
				t.Parallel()
				up := startCacheUpstream(t, nil)
				g := newCacheGateway(t, up, cacheGatewayConfig{})
				call := callGetCredits()

				up.fail(t, "/v1/credits", status)
				if reply := g.do(t, face, call, up.acme.Key, nil); !reply.failed() {
					t.Fatalf("%s: read during the injected %d succeeded: %s", face, status, reply.body)
				}
				checkCalls(t, up, call, 1)

				g.read(t, face, call, up.acme.Key, cache.StatusMiss)
				checkCalls(t, up, call, 2)
				g.read(t, face, call, up.acme.Key, cache.StatusHit)
				checkCalls(t, up, call, 2)
			})
		}
	}
}

func TestCacheNotFoundNotCached(t *testing.T) {
	t.Parallel()
	for _, face := range cacheFaces {
		t.Run(string(face), func(t *testing.T) {
			t.Parallel()
			up := startCacheUpstream(t, nil)
			g := newCacheGateway(t, up, cacheGatewayConfig{})
			call := callGetSession("no-such-session")
			for i := range 2 {
				reply := g.do(t, face, call, up.acme.Key, nil)
				if !reply.failed() {
					t.Fatalf("%s: read %d of an unknown session succeeded: %s", face, i+1, reply.body)
				}
				checkCalls(t, up, call, i+1)
			}
		})
	}
}

func TestCacheWritesNotCached(t *testing.T) {
	t.Parallel()
	for _, face := range cacheFaces {
		t.Run(string(face), func(t *testing.T) {
			t.Parallel()
			up := startCacheUpstream(t, nil)
			g := newCacheGateway(t, up, cacheGatewayConfig{})
			write := callUpdateSessionNotes(up.sessionID(t, up.acme.Key, "completed"), "same notes")
			up.sim.ResetCalls()
			for i := range 3 {
				reply := g.write(t, face, write, up.acme.Key)
				checkCalls(t, up, write, i+1)
				if got := reply.header.Get(HeaderCache); got != "" {
					t.Errorf("%s: write %d answered %s %q, want no header", face, i+1, HeaderCache, got)
				}
			}
		})
	}
}

func TestCacheBypassRefreshesEntry(t *testing.T) {
	t.Parallel()
	for _, face := range cacheFaces {
		t.Run(string(face), func(t *testing.T) {
			t.Parallel()
			up := startCacheUpstream(t, nil)
			g := newCacheGateway(t, up, cacheGatewayConfig{})
			call := callGetCredits()
			key := up.acme.Key
			noCache := http.Header{"Cache-Control": {"no-cache"}}

			before := g.read(t, face, call, key, cache.StatusMiss)
			// Change the balance behind the gateway, so only a call that
			// reaches the upstream returns it.
			up.send(t, "", http.MethodPost, "/_sim/organizations/"+up.acme.OrganizationID+"/credits",
				`{"pack": 7}`)
			if cached := g.read(t, face, call, key, cache.StatusHit); !cached.sameResponse(before) {
				t.Errorf("%s: hit differs from the cached response:\n%s\nwant\n%s", face, cached.body, before.body)
			}

			g.clock.Advance(time.Second)
			fresh := g.readWith(t, face, call, key, noCache, cache.StatusBypass)
			checkCalls(t, up, call, 2)
			checkAge(t, face, call, fresh, "")
			if fresh.sameResponse(before) {
				t.Fatalf("%s: bypass returned the old balance: %s", face, fresh.body)
			}

			// The bypass stored its response for the reads after it.
			g.clock.Advance(time.Second)
			after := g.read(t, face, call, key, cache.StatusHit)
			checkAge(t, face, call, after, "1")
			checkCalls(t, up, call, 2)
			if !after.sameResponse(fresh) {
				t.Errorf("%s: hit after the bypass is not the bypass's response:\n%s\nwant\n%s",
					face, after.body, fresh.body)
			}
		})
	}
}

func TestCacheBypassDirectives(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cacheControl string
		want         cache.Status
	}{
		{"no-cache", cache.StatusBypass},
		{"no-store", cache.StatusBypass},
		{"max-age=0", cache.StatusBypass},
		{"No-Cache", cache.StatusBypass},
		{"max-age=60, no-cache", cache.StatusBypass},
		{"max-age=60", cache.StatusHit},
		{"only-if-cached", cache.StatusHit},
	}
	for _, face := range cacheFaces {
		t.Run(string(face), func(t *testing.T) {
			t.Parallel()
			up := startCacheUpstream(t, nil)
			g := newCacheGateway(t, up, cacheGatewayConfig{})
			call := callListAgents()
			g.read(t, face, call, up.acme.Key, cache.StatusMiss)
			calls := 1
			for _, tt := range tests {
				header := http.Header{"Cache-Control": {tt.cacheControl}}
				g.readWith(t, face, call, up.acme.Key, header, tt.want)
				if tt.want == cache.StatusBypass {
					calls++
				}
				if got := up.calls(call.route); got != calls {
					t.Errorf("%s: after Cache-Control %q the simulator received %d requests, want %d",
						face, tt.cacheControl, got, calls)
				}
			}
		})
	}
}
