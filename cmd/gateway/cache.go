package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"

	"github.com/groundcam/groundcam-gateway/adapters/cache"
	"github.com/groundcam/groundcam-gateway/server"
)

// cacheMemoryBytes bounds the entries of the in-process response cache
// that a gateway without Redis uses. The deployment's 256 MiB memory limit
// leaves room for it next to the gateway's own use.
const cacheMemoryBytes = 64 << 20

// newCache returns the response cache: an in-process store bounded by
// cacheMemoryBytes when redisURL is empty, else a Redis store that every
// replica with the same URL shares. A nil logger or meter provider selects
// slog.Default() or the global provider. The caller closes the cache after
// the API server has stopped.
//
// The Redis store connects on first use, so an unreachable Redis is no
// error here: the cache serves reads uncached until Redis replies to a ping.
// With Redis, newCache also sends the Redis client's process-wide log
// output to logger at debug level.
func newCache(redisURL string, logger *slog.Logger, mp metric.MeterProvider) (*cache.Cache, error) {
	store, backend, err := newCacheStore(redisURL)
	if err != nil {
		return nil, err
	}

	var opts []cache.Option
	if logger != nil {
		opts = append(opts, cache.WithLogger(logger))
	}
	if mp != nil {
		opts = append(opts, cache.WithMeterProvider(mp))
	}
	c, err := server.NewCache(store, opts...)
	if err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("create response cache: %w", err)
	}

	if logger == nil {
		logger = slog.Default()
	}
	switch backend {
	case "memory":
		logger.Info("response cache in process memory; replicas do not share it",
			"cache_backend", backend, "cache_max_bytes", cacheMemoryBytes)
	case "redis":
		redis.SetLogger(redisLogger{logger: logger})
		logger.Info("response cache in Redis, shared by the replicas that use the same URL",
			"cache_backend", backend)
	}
	return c, nil
}

// newCacheStore returns the store for redisURL and the backend's name for
// logs. Its errors never contain the URL, which may hold a password.
func newCacheStore(redisURL string) (cache.Store, string, error) {
	if redisURL == "" {
		store, err := cache.NewMemoryStore(cacheMemoryBytes)
		if err != nil {
			return nil, "", fmt.Errorf("create response cache: %w", err)
		}
		return store, "memory", nil
	}
	store, err := cache.NewRedisStore(redisURL)
	if err != nil {
		return nil, "", fmt.Errorf("create response cache (%s): %w", envRedisURL, err)
	}
	return store, "redis", nil
}

// redisLogger sends the Redis client's own messages, such as every failed
// dial, to the gateway's logger at debug level, in place of its default
// unstructured lines on stderr. The cache logs each outage once itself.
type redisLogger struct {
	logger *slog.Logger
}

// Printf logs one message of the Redis client.
func (l redisLogger) Printf(ctx context.Context, format string, args ...any) {
	l.logger.DebugContext(ctx, "redis client message", "message", fmt.Sprintf(format, args...))
}
