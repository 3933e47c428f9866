package cache

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of a [RedisStore].
const (
	DefaultKeyPrefix  = "gwcache:"
	DefaultCounterTTL = 24 * time.Hour
)

// Connection defaults that apply unless the URL's query sets them. They are
// short so that an unreachable Redis costs a request little before the
// cache stops calling it.
const (
	defaultDialTimeout  = time.Second
	defaultReadTimeout  = 500 * time.Millisecond
	defaultWriteTimeout = 500 * time.Millisecond
	defaultMaxRetries   = 1
	defaultDialAttempts = 2
)

// invalidateScript increments each counter that exists. Counters that do not
// exist stay absent: creating one here could give it a value that an old
// entry recorded before the counter expired.
var invalidateScript = redis.NewScript(`
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    redis.call('INCR', key)
  end
end
return #KEYS
`)

// RedisOption configures a [RedisStore].
type RedisOption func(*redisConfig)

type redisConfig struct {
	keyPrefix  string
	counterTTL time.Duration
}

// WithKeyPrefix sets the prefix of every key the store writes. The default
// is [DefaultKeyPrefix].
func WithKeyPrefix(prefix string) RedisOption {
	return func(c *redisConfig) { c.keyPrefix = prefix }
}

// WithCounterTTL sets how long a generation counter lives after the last
// entry that depends on it was stored. An expired counter only turns its
// entries into misses. The default is [DefaultCounterTTL].
func WithCounterTTL(d time.Duration) RedisOption {
	return func(c *redisConfig) { c.counterTTL = d }
}

// RedisStore is a [Store] in Redis, shared by every gateway replica that
// uses the same server and key prefix, so an invalidation by one replica
// applies to all at their next read.
//
// Keys are the prefix, "e:" or "g:", and a hex SHA-256, so neither tenants
// nor request bytes reach Redis. Entries expire with PX after their
// lifetime. A counter starts at a random 62-bit value and moves by INCR, so
// one that expired and was created again does not repeat an old value,
// except with a chance of about 2^-62.
type RedisStore struct {
	client     *redis.Client
	keyPrefix  string
	counterTTL time.Duration
}

var _ Store = (*RedisStore)(nil)

// NewRedisStore returns a store that connects to the Redis server at
// rawURL, such as redis://127.0.0.1:6379/0, rediss:// for TLS or
// unix:///path/to/socket. Query parameters such as dial_timeout,
// read_timeout and max_retries tune the connection. It connects on first
// use, so an unreachable server is not an error here.
func NewRedisStore(rawURL string, opts ...RedisOption) (*RedisStore, error) {
	cfg := redisConfig{keyPrefix: DefaultKeyPrefix, counterTTL: DefaultCounterTTL}
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.counterTTL <= 0 {
		return nil, fmt.Errorf("cache: Redis counter TTL must be positive, got %s", cfg.counterTTL)
	}
	options, err := parseRedisURL(rawURL)
	if err != nil {
		return nil, err
	}
	return &RedisStore{
		client:     redis.NewClient(options),
		keyPrefix:  cfg.keyPrefix,
		counterTTL: cfg.counterTTL,
	}, nil
}

// parseRedisURL turns rawURL into client options. Its errors never contain
// the URL, which may hold a password.
func parseRedisURL(rawURL string) (*redis.Options, error) {
	const expected = "expected redis://[user:password@]host:port/db, rediss://... or unix:///path"
	u, err := url.Parse(rawURL)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return nil, fmt.Errorf("cache: invalid Redis URL: %w; %s", err, expected)
	}
	switch u.Scheme {
	case "redis", "rediss", "unix":
	default:
		return nil, fmt.Errorf("cache: invalid Redis URL: scheme %q is not redis, rediss or unix; %s",
			u.Scheme, expected)
	}
	options, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("cache: invalid Redis URL: %w; %s", err, expected)
	}

	query := u.Query()
	if !query.Has("dial_timeout") {
		options.DialTimeout = defaultDialTimeout
	}
	if !query.Has("read_timeout") {
		options.ReadTimeout = defaultReadTimeout
	}
	if !query.Has("write_timeout") {
		options.WriteTimeout = defaultWriteTimeout
	}
	if !query.Has("max_retries") {
		options.MaxRetries = defaultMaxRetries
	}
	// go-redis v9.23.0 makes five dial attempts 100 ms apart by default.
	options.DialerRetries = defaultDialAttempts
	options.ContextTimeoutEnabled = true
	return options, nil
}

func (s *RedisStore) entryKey(key string) string       { return s.keyPrefix + "e:" + key }
func (s *RedisStore) counterKey(counter string) string { return s.keyPrefix + "g:" + counter }

// Lookup reads the entry and the counters with one MGET.
func (s *RedisStore) Lookup(ctx context.Context, key string, counters []string) ([]byte, []uint64, error) {
	keys := make([]string, 0, 1+len(counters))
	keys = append(keys, s.entryKey(key))
	for _, counter := range counters {
		keys = append(keys, s.counterKey(counter))
	}
	values, err := s.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, nil, fmt.Errorf("redis lookup: %w", err)
	}
	if len(values) != len(keys) {
		return nil, nil, fmt.Errorf("redis lookup: MGET returned %d values for %d keys", len(values), len(keys))
	}

	gens := make([]uint64, len(counters))
	for i := range counters {
		if gens[i], err = parseGeneration(values[i+1]); err != nil {
			return nil, nil, err
		}
	}
	switch v := values[0].(type) {
	case nil:
		return nil, gens, nil
	case string:
		return []byte(v), gens, nil
	default:
		return nil, nil, fmt.Errorf("redis lookup: entry has unexpected type %T", v)
	}
}

// Generations creates absent counters with SET NX and reads all of them, in
// one pipeline.
func (s *RedisStore) Generations(ctx context.Context, counters []string) ([]uint64, error) {
	pipe := s.client.Pipeline()
	gets := make([]*redis.StringCmd, len(counters))
	for i, counter := range counters {
		key := s.counterKey(counter)
		pipe.SetNX(ctx, key, newGeneration(), s.counterTTL)
		gets[i] = pipe.Get(ctx, key)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redis generations: %w", err)
	}

	gens := make([]uint64, len(counters))
	for i, get := range gets {
		value, err := get.Result()
		if errors.Is(err, redis.Nil) {
			// Expired or evicted between the two commands: recording 0 keeps
			// the entry from ever being current.
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("redis generations: %w", err)
		}
		if gens[i], err = parseGeneration(value); err != nil {
			return nil, err
		}
	}
	return gens, nil
}

// Set stores the entry with PX lifetime and extends the counters it depends
// on to at least that long, in one pipeline.
func (s *RedisStore) Set(ctx context.Context, key string, entry []byte, counters []string, lifetime time.Duration) error {
	millis := lifetime.Milliseconds()
	if millis <= 0 {
		return nil
	}
	pipe := s.client.Pipeline()
	pipe.Do(ctx, "SET", s.entryKey(key), entry, "PX", millis)
	for _, counter := range counters {
		pipe.PExpire(ctx, s.counterKey(counter), max(s.counterTTL, lifetime))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redis set: %w", err)
	}
	return nil
}

// Invalidate increments the existing counters in one script call.
func (s *RedisStore) Invalidate(ctx context.Context, counters []string) error {
	keys := make([]string, len(counters))
	for i, counter := range counters {
		keys[i] = s.counterKey(counter)
	}
	if err := invalidateScript.Run(ctx, s.client, keys).Err(); err != nil {
		return fmt.Errorf("redis invalidate: %w", err)
	}
	return nil
}

// Ping sends PING.
func (s *RedisStore) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}

// Close closes the connection pool.
func (s *RedisStore) Close() error {
	if err := s.client.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("redis close: %w", err)
	}
	return nil
}

// newGeneration returns a random start value in [1, 2^62]. That leaves
// more than 4.6e18 INCRs before Redis's int64 limit.
func newGeneration() uint64 {
	return rand.Uint64N(1<<62) + 1
}

func parseGeneration(value any) (uint64, error) {
	switch v := value.(type) {
	case nil:
		return 0, nil
	case string:
		gen, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, errors.New("redis: invalid generation counter: not an unsigned integer")
		}
		return gen, nil
	default:
		return 0, fmt.Errorf("redis: generation counter has unexpected type %T", v)
	}
}
