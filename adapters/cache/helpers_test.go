package cache

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/groundcam/groundcam-gateway/internal/testutil"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// backend builds a fresh, isolated store of one kind for a test.
type backend struct {
	name     string
	newStore func(tb testing.TB) Store
}

// backends returns every store kind. The Redis one starts its own
// redis-server per store, and skips the test where none is installed.
func backends() []backend {
	return []backend{
		{name: "memory", newStore: func(tb testing.TB) Store {
			tb.Helper()
			return newMemoryStore(tb)
		}},
		{name: "redis", newStore: func(tb testing.TB) Store {
			tb.Helper()
			return newRedisStore(tb, startRedis(tb).URL())
		}},
	}
}

// newMemoryStore returns a memory store of 1 MiB.
func newMemoryStore(tb testing.TB) *MemoryStore {
	tb.Helper()
	store, err := NewMemoryStore(1 << 20)
	if err != nil {
		tb.Fatalf("NewMemoryStore: %v", err)
	}
	return store
}

func newRedisStore(tb testing.TB, rawURL string, opts ...RedisOption) *RedisStore {
	tb.Helper()
	store, err := NewRedisStore(rawURL, opts...)
	if err != nil {
		tb.Fatalf("NewRedisStore: %v", err)
	}
	return store
}

// harness is a cache under test with a fake clock and recorded telemetry.
type harness struct {
	cache  *Cache
	clock  *clockwork.FakeClock
	reader *sdkmetric.ManualReader
	logs   *logRecorder
}

func newHarness(t *testing.T, store Store, opts ...Option) *harness {
	t.Helper()
	h := &harness{
		clock:  clockwork.NewFakeClockAt(time.Date(2026, 2, 14, 10, 30, 0, 0, time.UTC)),
		reader: sdkmetric.NewManualReader(),
		logs:   newLogRecorder(),
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })

	base := []Option{
		WithClock(h.clock),
		WithMeterProvider(provider),
		WithLogger(slog.New(h.logs)),
	}
	c, err := New(store, append(base, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	h.cache = c
	return h
}

// counter returns the sum of an int64 counter over the data points whose
// attributes contain every pair in match.
func (h *harness) counter(t *testing.T, name string, match ...attribute.KeyValue) int64 {
	t.Helper()
	var total int64
	for _, point := range h.points(t, name) {
		if hasAttributes(point.Attributes, match) {
			total += point.Value
		}
	}
	return total
}

// points returns the int64 data points of the named instrument.
func (h *harness) points(t *testing.T, name string) []metricdata.DataPoint[int64] {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("collect metrics: %v", err)
	}
	for _, scope := range rm.ScopeMetrics {
		for _, m := range scope.Metrics {
			if m.Name != name {
				continue
			}
			switch data := m.Data.(type) {
			case metricdata.Sum[int64]:
				return data.DataPoints
			case metricdata.Gauge[int64]:
				return data.DataPoints
			default:
				t.Fatalf("metric %s has unexpected data type %T", name, m.Data)
			}
		}
	}
	return nil
}

func hasAttributes(set attribute.Set, match []attribute.KeyValue) bool {
	for _, kv := range match {
		value, ok := set.Value(kv.Key)
		if !ok || value != kv.Value {
			return false
		}
	}
	return true
}

// logRecorder is a slog.Handler that keeps every record's level and message.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
	added   chan struct{} // receives a value after each record, without blocking
}

func newLogRecorder() *logRecorder {
	return &logRecorder{added: make(chan struct{}, 1)}
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.records = append(l.records, r.Clone())
	l.mu.Unlock()
	select {
	case l.added <- struct{}{}:
	default:
	}
	return nil
}

// count returns how many records have a message containing text.
func (l *logRecorder) count(text string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.records {
		if strings.Contains(r.Message, text) {
			n++
		}
	}
	return n
}

// startRedis starts a redis-server that keeps nothing on disk and stops it
// when the test ends. It skips the test where none is installed.
func startRedis(tb testing.TB) *testutil.RedisServer {
	tb.Helper()
	return testutil.StartRedis(tb, "the Redis tests")
}
