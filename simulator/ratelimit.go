package simulator

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// rateLimiter counts requests per API key in fixed windows aligned on the
// clock, such as whole minutes. It is safe for concurrent use.
type rateLimiter struct {
	mu      sync.Mutex
	limit   int
	window  time.Duration
	buckets map[string]*bucket // by key id; one per fixture key
}

// bucket is one key's count in the current window.
type bucket struct {
	start time.Time
	count int
}

// quota is the rate-limit state written in the X-RateLimit-* headers.
type quota struct {
	limit     int
	remaining int
	reset     time.Time
	now       time.Time
	allowed   bool
}

// newRateLimiter returns a limiter of limit requests per window.
func newRateLimiter(limit int, window time.Duration) *rateLimiter {
	return &rateLimiter{limit: limit, window: window, buckets: map[string]*bucket{}}
}

// configure changes the limit and the window, where positive, and clears
// every count.
func (l *rateLimiter) configure(limit int, window time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if limit > 0 {
		l.limit = limit
	}
	if window > 0 {
		l.window = window
	}
	clear(l.buckets)
}

// settings returns the limit and the window.
func (l *rateLimiter) settings() (int, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit, l.window
}

// take counts one request of the key at now.
func (l *rateLimiter) take(keyID string, now time.Time) quota {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := now.Truncate(l.window)
	b := l.buckets[keyID]
	if b == nil || !b.start.Equal(start) {
		b = &bucket{start: start}
		l.buckets[keyID] = b
	}
	q := quota{limit: l.limit, reset: start.Add(l.window), now: now}
	if b.count >= l.limit {
		return q
	}
	b.count++
	q.allowed = true
	q.remaining = l.limit - b.count
	return q
}

// unauthenticated returns the quota written on 401 responses, which
// consume nothing: a full window.
func (l *rateLimiter) unauthenticated(now time.Time) quota {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := now.Truncate(l.window)
	return quota{limit: l.limit, remaining: l.limit, reset: start.Add(l.window), now: now, allowed: true}
}

// setHeaders writes X-RateLimit-Limit, -Remaining and -Reset (unix seconds).
func (q quota) setHeaders(h http.Header) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(q.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(q.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(q.reset.Unix(), 10))
}

// retryAfter returns the whole seconds until the window resets, at least 1.
func (q quota) retryAfter() int {
	return max(1, int(math.Ceil(q.reset.Sub(q.now).Seconds())))
}

// exceeded returns the 429 RATE_LIMITED error with Retry-After.
func (q quota) exceeded() *apiError {
	wait := q.retryAfter()
	return newError(http.StatusTooManyRequests, codeRateLimited,
		"Rate limit exceeded: %d requests per window; retry after %d seconds", q.limit, wait).
		withHeader("Retry-After", strconv.Itoa(wait))
}
