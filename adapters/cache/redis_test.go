package cache

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/groundcam/groundcam-gateway/internal/testutil"
)

// rawClient returns a plain client of server for inspecting what the store
// wrote.
func rawClient(t *testing.T, server *testutil.RedisServer) *redis.Client {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: server.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// waitForRecovery advances the fake clock by the probe interval until the
// cache logs that the store is available again, for at most 10 seconds of
// real time.
func waitForRecovery(t *testing.T, h *harness, interval time.Duration) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.logs.count("available again") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("cache did not log its recovery within 10s after the store came back")
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := h.clock.BlockUntilContext(ctx, 1)
		cancel()
		if err != nil {
			continue // the prober stopped its ticker, so it may have recovered
		}
		h.clock.Advance(interval)
		select {
		case <-h.logs.added:
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func TestRedisReplicasShareInvalidations(t *testing.T) {
	t.Parallel()
	server := startRedis(t)
	one := newHarness(t, newRedisStore(t, server.URL())) // two replicas on one Redis
	two := newHarness(t, newRedisStore(t, server.URL()))
	var calls atomic.Int64
	r := readRequest(tenantA, getSession, sessionPolicy())

	checkResult(t, mustDo(t, one.cache, r, countingLoad(&calls, "v1")), StatusMiss, "v1")
	checkResult(t, mustDo(t, two.cache, r, countingLoad(&calls, "x")), StatusHit, "v1")

	if err := two.cache.Invalidate(context.Background(), tenantA, []string{"sessions"}); err != nil {
		t.Fatalf("Invalidate on replica two: %v", err)
	}
	checkResult(t, mustDo(t, one.cache, r, countingLoad(&calls, "v2")), StatusMiss, "v2")
	checkResult(t, mustDo(t, two.cache, r, countingLoad(&calls, "x")), StatusHit, "v2")
	checkCalls(t, &calls, 2)
}

func TestRedisOutageServesUncachedAndRecovers(t *testing.T) {
	t.Parallel()
	const interval = time.Second
	server := startRedis(t)
	h := newHarness(t, newRedisStore(t, server.URL()), WithProbeInterval(interval))
	var calls atomic.Int64
	r := readRequest(tenantA, getSession, sessionPolicy())
	mustDo(t, h.cache, r, countingLoad(&calls, "v1"))
	checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, "x")), StatusHit, "v1")

	server.Stop()
	for i := range 3 {
		value := fmt.Sprintf("down-%d", i)
		checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, value)), StatusMiss, value)
	}
	checkCalls(t, &calls, 4)
	if got := h.logs.count("cache store unavailable"); got != 1 {
		t.Errorf("outage log records = %d, want 1", got)
	}
	if got := h.counter(t, "gateway.cache.backend.errors"); got < 1 {
		t.Errorf("backend errors metric = %d, want at least 1", got)
	}
	if up := h.points(t, "gateway.cache.backend.up"); len(up) != 1 || up[0].Value != 0 {
		t.Errorf("backend up gauge during outage = %+v, want one point of value 0", up)
	}
	if err := h.cache.Invalidate(context.Background(), tenantA, []string{"sessions"}); err != nil {
		t.Errorf("Invalidate during outage: %v", err)
	}

	if err := server.Restart(); err != nil {
		t.Fatalf("restart redis-server: %v", err)
	}
	waitForRecovery(t, h, interval)
	if got := h.logs.count("available again"); got != 1 {
		t.Errorf("recovery log records = %d, want 1", got)
	}
	if got := h.logs.count("cache store unavailable"); got != 1 {
		t.Errorf("outage log records after recovery = %d, want 1", got)
	}
	if up := h.points(t, "gateway.cache.backend.up"); len(up) != 1 || up[0].Value != 1 {
		t.Errorf("backend up gauge after recovery = %+v, want one point of value 1", up)
	}
	checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, "v2")), StatusMiss, "v2")
	checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, "x")), StatusHit, "v2")
}

func TestRedisReplaysInvalidationsAfterOutage(t *testing.T) {
	t.Parallel()
	const interval = time.Second
	server := startRedis(t)
	one := newHarness(t, newRedisStore(t, server.URL()), WithProbeInterval(interval))
	two := newHarness(t, newRedisStore(t, server.URL()))
	var calls atomic.Int64
	r := readRequest(tenantA, getSession, sessionPolicy())
	mustDo(t, one.cache, r, countingLoad(&calls, "v1"))

	// A stopped process keeps its data but replies to nothing, so reads time out.
	if err := server.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("stop redis-server: %v", err)
	}
	checkResult(t, mustDo(t, one.cache, r, countingLoad(&calls, "down")), StatusMiss, "down")
	if err := one.cache.Invalidate(context.Background(), tenantA, []string{"sessions"}); err != nil {
		t.Fatalf("Invalidate during outage: %v", err)
	}
	if err := server.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("continue redis-server: %v", err)
	}
	waitForRecovery(t, one, interval)

	// Replica two never saw the outage and still finds the old entry
	// invalidated.
	checkResult(t, mustDo(t, two.cache, r, countingLoad(&calls, "v2")), StatusMiss, "v2")
}

func TestRedisKeysAreHashed(t *testing.T) {
	t.Parallel()
	server := startRedis(t)
	h := newHarness(t, newRedisStore(t, server.URL()))
	var calls atomic.Int64
	for _, tenant := range []string{tenantA, tenantB} {
		mustDo(t, h.cache, readRequest(tenant, getSession, sessionPolicy()), countingLoad(&calls, "v"))
	}
	if err := h.cache.Invalidate(context.Background(), tenantA, []string{"sessions"}); err != nil {
		t.Fatalf("Invalidate: %v", err)
	}

	ctx := context.Background()
	client := rawClient(t, server)
	keys, err := client.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatalf("KEYS: %v", err)
	}
	if len(keys) != 4 {
		t.Errorf("keys = %q, want 2 entries and 2 counters", keys)
	}
	pattern := regexp.MustCompile(`^gwcache:[eg]:[0-9a-f]{64}$`)
	lifetime := sessionPolicy().TTL + sessionPolicy().StaleIfError
	for _, key := range keys {
		if !pattern.MatchString(key) {
			t.Errorf("key %q is not a prefix and a hex SHA-256", key)
			continue
		}
		ttl, err := client.PTTL(ctx, key).Result()
		if err != nil {
			t.Fatalf("PTTL %s: %v", key, err)
		}
		limit := DefaultCounterTTL
		if strings.HasPrefix(key, "gwcache:e:") {
			limit = lifetime
		}
		if ttl <= 0 || ttl > limit {
			t.Errorf("key %s expires in %s, want within (0, %s]", key, ttl, limit)
		}
	}
}

func TestRedisDeletedCounterIsMiss(t *testing.T) {
	t.Parallel()
	server := startRedis(t)
	h := newHarness(t, newRedisStore(t, server.URL()))
	var calls atomic.Int64
	r := readRequest(tenantA, getSession, sessionPolicy())
	mustDo(t, h.cache, r, countingLoad(&calls, "v1"))

	// An evicted counter must not let old entries become current again.
	ctx := context.Background()
	client := rawClient(t, server)
	counters, err := client.Keys(ctx, "gwcache:g:*").Result()
	if err != nil || len(counters) != 1 {
		t.Fatalf("counter keys = %q, %v, want one", counters, err)
	}
	if err := client.Del(ctx, counters...).Err(); err != nil {
		t.Fatalf("DEL: %v", err)
	}
	if err := h.cache.Invalidate(ctx, tenantA, []string{"sessions"}); err != nil {
		t.Fatalf("Invalidate: %v", err)
	}
	if n, err := client.Exists(ctx, counters...).Result(); err != nil || n != 0 {
		t.Errorf("Invalidate created the absent counter: EXISTS = %d, %v", n, err)
	}

	checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, "v2")), StatusMiss, "v2")
	checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, "x")), StatusHit, "v2")
}

func TestNewRedisStoreRejectsInvalidURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		url     string
		message string
	}{
		{"empty", "", `scheme "" is not redis`},
		{"http scheme", "http://127.0.0.1:6379/0", `scheme "http" is not redis`},
		{"no scheme", "127.0.0.1:6379", "invalid Redis URL"},
		{"bad port", "redis://user:secret@127.0.0.1:port/0", "invalid port"},
		{"bad database", "redis://user:secret@127.0.0.1:6379/zero", "invalid database number"},
		{"unknown option", "redis://:secret@127.0.0.1:6379/0?bogus=1", "unexpected option: bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewRedisStore(tt.url)
			if err == nil {
				t.Fatal("error = nil")
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not contain %q", err, tt.message)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q contains the password", err)
			}
		})
	}

	if _, err := NewRedisStore("redis://127.0.0.1:6379/0", WithCounterTTL(0)); err == nil {
		t.Error("zero counter TTL: error = nil")
	}
}

func TestNewRedisStoreAcceptsURLTuning(t *testing.T) {
	t.Parallel()
	options, err := parseRedisURL("redis://127.0.0.1:6390/2?read_timeout=2s")
	if err != nil {
		t.Fatalf("parseRedisURL: %v", err)
	}
	if options.Addr != "127.0.0.1:6390" || options.DB != 2 {
		t.Errorf("address = %s, database = %d, want 127.0.0.1:6390 and 2", options.Addr, options.DB)
	}
	if options.ReadTimeout != 2*time.Second {
		t.Errorf("read timeout = %s, want the URL's 2s", options.ReadTimeout)
	}
	if options.DialTimeout != defaultDialTimeout {
		t.Errorf("dial timeout = %s, want the default %s", options.DialTimeout, defaultDialTimeout)
	}
}
