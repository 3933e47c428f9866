package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"
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
			store, err := NewMemoryStore(1 << 20)
			if err != nil {
				tb.Fatalf("NewMemoryStore: %v", err)
			}
			return store
		}},
		{name: "redis", newStore: func(tb testing.TB) Store {
			tb.Helper()
			return newRedisStore(tb, startRedis(tb).url())
		}},
	}
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

// redisServer is a redis-server process that a test started on a free port
// of 127.0.0.1.
type redisServer struct {
	t    testing.TB
	port int
	mu   sync.Mutex
	cmd  *exec.Cmd
}

// startRedis starts a redis-server that keeps nothing on disk and stops it
// when the test ends.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not found in PATH; install the Debian package redis-server " +
			"(apt-get install redis-server) to run the Redis tests")
	}
	s := &redisServer{t: t, port: freePort(t)}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func freePort(t testing.TB) int {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer listener.Close()
	return listener.Addr().(*net.TCPAddr).Port
}

func (s *redisServer) url() string {
	return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port)
}

// start runs redis-server on the server's port and waits until it replies to
// PING.
func (s *redisServer) start() {
	s.t.Helper()
	cmd := exec.Command("redis-server",
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()

	deadline := time.Now().Add(10 * time.Second)
	ticker := time.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()
	for {
		err := s.ping()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.stop()
			s.t.Fatalf("redis-server on port %d did not answer PING within 10s: %v", s.port, err)
		}
		<-ticker.C
	}
}

// ping sends PING over a plain connection, so that waiting for the server
// leaves no client state behind.
func (s *redisServer) ping() error {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	reply := make([]byte, len("+PONG\r\n"))
	if _, err := io.ReadFull(conn, reply); err != nil {
		return err
	}
	if string(reply) != "+PONG\r\n" {
		return fmt.Errorf("unexpected PING reply %q", reply)
	}
	return nil
}

// stop kills the server and waits for it to exit. It does nothing when the
// server is not running.
func (s *redisServer) stop() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	var exitErr *exec.ExitError
	if err := cmd.Wait(); err != nil && !errors.As(err, &exitErr) {
		s.t.Errorf("wait for redis-server: %v", err)
	}
}
