package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/groundcam/groundcam-gateway/adapters/cache"
	"github.com/groundcam/groundcam-gateway/internal/testutil"
)

func TestNewCacheMemory(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	provider := sdkmetric.NewMeterProvider()
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })

	c, err := newCache("", logger, provider)
	if err != nil {
		t.Fatalf("newCache: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})

	r := cache.Request{
		Tenant:    "tenant",
		Procedure: "/groundcam.v1.CreditService/GetCredits",
		Policy:    cache.Policy{TTL: 10 * time.Second, Tags: []string{"credits"}},
	}
	load := func(context.Context) ([]byte, error) { return []byte("balance"), nil }
	for _, want := range []cache.Status{cache.StatusMiss, cache.StatusHit} {
		res, err := c.Do(context.Background(), r, load)
		if err != nil {
			t.Fatalf("Do: %v", err)
		}
		if res.Status != want || string(res.Value) != "balance" {
			t.Errorf("Do returned %s %q, want %s %q", res.Status, res.Value, want, "balance")
		}
	}
	if !strings.Contains(logs.String(), "cache_backend=memory") {
		t.Errorf("log lacks cache_backend=memory: %s", logs.String())
	}
}

// TestNewCacheRedisURL is not parallel, because newCache sets the Redis
// client's process-wide logger.
func TestNewCacheRedisURL(t *testing.T) {
	t.Cleanup(func() { redis.SetLogger(redisLogger{logger: slog.New(slog.DiscardHandler)}) })
	// A port that nothing listens on: the store connects on first use, so
	// the cache is created anyway.
	addr := testutil.FreeAddr(t)

	var logs bytes.Buffer
	c, err := newCache("redis://:s3cret@"+addr+"/0", slog.New(slog.NewTextHandler(&logs, nil)), nil)
	if err != nil {
		t.Fatalf("newCache: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if !strings.Contains(logs.String(), "cache_backend=redis") {
		t.Errorf("log lacks cache_backend=redis: %s", logs.String())
	}
	if strings.Contains(logs.String(), "s3cret") || strings.Contains(logs.String(), addr) {
		t.Errorf("log shows the Redis URL: %s", logs.String())
	}
}

func TestNewCacheInvalidRedisURL(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"http://:s3cret@127.0.0.1:6379/0",
		"redis://:s3cret@127.0.0.1:port/0",
		"redis://:s3cret@127.0.0.1:6379/db",
	} {
		_, err := newCache(raw, slog.New(slog.DiscardHandler), nil)
		if err == nil {
			t.Errorf("newCache accepted an invalid Redis URL")
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error shows the password: %v", err)
		}
		if !strings.Contains(err.Error(), envRedisURL) {
			t.Errorf("error %q does not name %s", err, envRedisURL)
		}
	}
}
