package server

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/groundcam/groundcam-gateway/adapters/cache"
	"github.com/groundcam/groundcam-gateway/internal/testutil"
)

// startCacheRedis starts a redis-server that keeps nothing on disk on a
// free port, and kills it when the test ends. It skips the test when
// redis-server is not installed.
func startCacheRedis(t *testing.T) *testutil.RedisServer {
	t.Helper()
	return testutil.StartRedis(t, "the Redis cache tests")
}

// newRedisGateway returns a gateway whose cache uses the Redis server at
// rawURL, with a one-second probe interval on its fake clock.
func newRedisGateway(t *testing.T, up *cacheUpstream, rawURL string) *cacheGateway {
	t.Helper()
	store, err := cache.NewRedisStore(rawURL)
	if err != nil {
		t.Fatalf("NewRedisStore: %v", err)
	}
	return newCacheGateway(t, up, cacheGatewayConfig{
		store: store,
		opts:  []cache.Option{cache.WithProbeInterval(time.Second)},
	})
}

func TestCacheRedisSharedByReplicas(t *testing.T) {
	t.Parallel()
	redis := startCacheRedis(t)
	up := startCacheUpstream(t, nil)
	session := up.sessionID(t, up.acme.Key, "completed")
	up.sim.ResetCalls()
	one := newRedisGateway(t, up, redis.URL())
	two := newRedisGateway(t, up, redis.URL())
	read := callGetSession(session)
	key := up.acme.Key

	// A read through one replica is a hit on the other, on either face.
	g1 := one.read(t, faceConnect, read, key, cache.StatusMiss)
	g2 := two.read(t, faceREST, read, key, cache.StatusHit)
	two.read(t, faceConnect, read, key, cache.StatusHit)
	checkCalls(t, up, read, 1)
	if !strings.Contains(g2.body, session) || !strings.Contains(g1.body, session) {
		t.Errorf("responses lack the session id %s:\n%s\n%s", session, g1.body, g2.body)
	}

	// A write through replica two drops replica one's entry.
	two.write(t, faceREST, callUpdateSessionNotes(session, "shared by replicas"), key)
	after := one.read(t, faceConnect, read, key, cache.StatusMiss)
	checkCalls(t, up, read, 2)
	if !strings.Contains(after.body, "shared by replicas") {
		t.Errorf("replica one's read after the write lacks the new notes: %s", after.body)
	}
	two.read(t, faceREST, read, key, cache.StatusHit)
	checkCalls(t, up, read, 2)
}

func TestCacheRedisOutage(t *testing.T) {
	t.Parallel()
	redis := startCacheRedis(t)
	up := startCacheUpstream(t, nil)
	session := up.sessionID(t, up.acme.Key, "completed")
	up.sim.ResetCalls()
	gateways := []*cacheGateway{newRedisGateway(t, up, redis.URL()), newRedisGateway(t, up, redis.URL())}
	read := callGetSession(session)
	key := up.acme.Key
	gateways[0].read(t, faceConnect, read, key, cache.StatusMiss)
	gateways[1].read(t, faceConnect, read, key, cache.StatusHit)

	redis.Stop()

	// Both replicas keep serving reads, uncached, and writes.
	calls := up.calls(read.route)
	for i, g := range gateways {
		for _, face := range cacheFaces {
			for range 2 {
				g.read(t, face, read, key, cache.StatusMiss)
				calls++
				if got := up.calls(read.route); got != calls {
					t.Errorf("gateway %d on %s during the outage: simulator received %d reads, want %d",
						i+1, face, got, calls)
				}
			}
		}
		g.write(t, faceREST, callUpdateSessionNotes(session, fmt.Sprintf("outage %d", i+1)), key)
	}
	for i, g := range gateways {
		if got := g.metric(t, "gateway.cache.backend.errors"); got == 0 {
			t.Errorf("gateway %d: gateway.cache.backend.errors is 0 during the outage", i+1)
		}
		lookups := g.metric(t, "gateway.cache.backend.errors",
			attribute.String("cache.operation", "lookup"), attribute.String("rpc.method", getSessionProcedure))
		if lookups == 0 {
			t.Errorf("gateway %d: no failed lookup of %s was counted", i+1, getSessionProcedure)
		}
		if up := g.metric(t, "gateway.cache.backend.up"); up != 0 {
			t.Errorf("gateway %d: gateway.cache.backend.up is %d during the outage, want 0", i+1, up)
		}
	}
}

// getSessionProcedure is the procedure name that the cache's metrics carry
// for GetSession.
const getSessionProcedure = "/groundcam.v1.SessionService/GetSession"

func TestCacheRedisRecovers(t *testing.T) {
	t.Parallel()
	redis := startCacheRedis(t)
	up := startCacheUpstream(t, nil)
	g := newRedisGateway(t, up, redis.URL())
	read := callGetCredits()
	key := up.acme.Key
	g.read(t, faceConnect, read, key, cache.StatusMiss)

	redis.Stop()
	g.read(t, faceConnect, read, key, cache.StatusMiss)
	if err := redis.Restart(); err != nil {
		t.Fatalf("restart redis-server: %v", err)
	}
	waitForBackendUp(t, g)

	// The restarted server is empty, so caching starts over.
	g.read(t, faceREST, read, key, cache.StatusMiss)
	g.read(t, faceREST, read, key, cache.StatusHit)
	g.read(t, faceConnect, read, key, cache.StatusHit)
}

// waitForBackendUp advances the gateway's fake clock by the probe interval
// until the cache reports its store available again, for at most 10
// seconds of real time.
func waitForBackendUp(t *testing.T, g *cacheGateway) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for g.metric(t, "gateway.cache.backend.up") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the cache did not report its store available within 10s after redis-server restarted")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		// The prober waits on one ticker of the fake clock.
		if g.clock.BlockUntilContext(ctx, 1) == nil {
			g.clock.Advance(time.Second)
		}
		cancel()
		time.Sleep(10 * time.Millisecond)
	}
}
