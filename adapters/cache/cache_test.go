package cache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

const (
	getSession   = "/groundcam.v1.SessionService/GetSession"
	listSessions = "/groundcam.v1.SessionService/ListSessions"
	listAgents   = "/groundcam.v1.AgentService/ListAgents"
	tenantA      = "tenant-a-hash"
	tenantB      = "tenant-b-hash"
)

var (
	errUpstream = errors.New("upstream unavailable")
	errNotFound = errors.New("session not found")
)

func sessionPolicy() Policy {
	return Policy{TTL: time.Minute, StaleIfError: 5 * time.Minute, Tags: []string{"sessions"}}
}

func readRequest(tenant, procedure string, policy Policy) Request {
	return Request{Tenant: tenant, Procedure: procedure, Key: []byte("session_id:s-1"), Policy: policy}
}

// countingLoad returns a load that counts its calls and returns value.
func countingLoad(calls *atomic.Int64, value string) LoadFunc {
	return func(context.Context) ([]byte, error) {
		calls.Add(1)
		return []byte(value), nil
	}
}

func failingLoad(calls *atomic.Int64, err error) LoadFunc {
	return func(context.Context) ([]byte, error) {
		calls.Add(1)
		return nil, err
	}
}

// mustDo calls Do and fails the test on an error.
func mustDo(t *testing.T, c *Cache, r Request, load LoadFunc) Result {
	t.Helper()
	res, err := c.Do(context.Background(), r, load)
	if err != nil {
		t.Fatalf("Do(%s, %s): %v", r.Tenant, r.Procedure, err)
	}
	return res
}

func checkResult(t *testing.T, got Result, status Status, value string) {
	t.Helper()
	if got.Status != status {
		t.Errorf("status = %q, want %q", got.Status, status)
	}
	if string(got.Value) != value {
		t.Errorf("value = %q, want %q", got.Value, value)
	}
}

func checkCalls(t *testing.T, calls *atomic.Int64, want int64) {
	t.Helper()
	if got := calls.Load(); got != want {
		t.Errorf("load calls = %d, want %d", got, want)
	}
}

// forEachBackend runs test as a parallel subtest per store kind.
func forEachBackend(t *testing.T, test func(t *testing.T, h *harness)) {
	t.Helper()
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			test(t, newHarness(t, b.newStore(t), WithStaleError(func(err error) bool {
				return errors.Is(err, errUpstream)
			})))
		})
	}
}

func TestDoRepeatedReadsHit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		var calls atomic.Int64
		r := readRequest(tenantA, getSession, sessionPolicy())

		first := mustDo(t, h.cache, r, countingLoad(&calls, "v1"))
		checkResult(t, first, StatusMiss, "v1")

		h.clock.Advance(10 * time.Second)
		second := mustDo(t, h.cache, r, countingLoad(&calls, "v2"))
		checkResult(t, second, StatusHit, "v1")
		if second.Age != 10*time.Second {
			t.Errorf("age = %s, want 10s", second.Age)
		}
		checkCalls(t, &calls, 1)

		procedure := attrProcedure.String(getSession)
		if got := h.counter(t, "gateway.cache.hits", procedure); got != 1 {
			t.Errorf("hits metric = %d, want 1", got)
		}
		if got := h.counter(t, "gateway.cache.misses", procedure); got != 1 {
			t.Errorf("misses metric = %d, want 1", got)
		}
	})
}

func TestDoCachesUntaggedReads(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		var calls atomic.Int64
		r := readRequest(tenantA, getSession, Policy{TTL: time.Minute})
		checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, "v1")), StatusMiss, "v1")
		checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, "v2")), StatusHit, "v1")
		checkCalls(t, &calls, 1)
	})
}

func TestDoReloadsAfterTTL(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		var calls atomic.Int64
		r := readRequest(tenantA, getSession, sessionPolicy())
		mustDo(t, h.cache, r, countingLoad(&calls, "v1"))

		h.clock.Advance(time.Minute)
		checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, "v2")), StatusMiss, "v2")
		checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, "v3")), StatusHit, "v2")
		checkCalls(t, &calls, 2)
	})
}

func TestDoSeparatesTenants(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		var calls atomic.Int64
		a := readRequest(tenantA, getSession, sessionPolicy())
		b := readRequest(tenantB, getSession, sessionPolicy())

		checkResult(t, mustDo(t, h.cache, a, countingLoad(&calls, "a")), StatusMiss, "a")
		checkResult(t, mustDo(t, h.cache, b, countingLoad(&calls, "b")), StatusMiss, "b")
		checkResult(t, mustDo(t, h.cache, a, countingLoad(&calls, "x")), StatusHit, "a")
		checkResult(t, mustDo(t, h.cache, b, countingLoad(&calls, "x")), StatusHit, "b")
		checkCalls(t, &calls, 2)
	})
}

func TestInvalidateDropsTaggedEntries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		agents := Policy{TTL: time.Minute, Tags: []string{"agents"}}
		sessionsAndCredits := Policy{TTL: time.Minute, Tags: []string{"credits", "sessions"}}
		requests := map[string]Request{
			"a session":  readRequest(tenantA, getSession, sessionPolicy()),
			"a sessions": readRequest(tenantA, listSessions, sessionsAndCredits),
			"a agents":   readRequest(tenantA, listAgents, agents),
			"b session":  readRequest(tenantB, getSession, sessionPolicy()),
		}
		var calls atomic.Int64
		for name, r := range requests {
			checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, name)), StatusMiss, name)
		}

		if err := h.cache.Invalidate(ctx, tenantA, []string{"sessions"}); err != nil {
			t.Fatalf("Invalidate: %v", err)
		}

		want := map[string]Status{
			"a session":  StatusMiss,
			"a sessions": StatusMiss,
			"a agents":   StatusHit,
			"b session":  StatusHit,
		}
		for name, status := range want {
			res := mustDo(t, h.cache, requests[name], countingLoad(&calls, name))
			if res.Status != status {
				t.Errorf("%s after invalidation: status = %q, want %q", name, res.Status, status)
			}
		}

		// The reloaded entries are current again.
		res := mustDo(t, h.cache, requests["a session"], countingLoad(&calls, "x"))
		checkResult(t, res, StatusHit, "a session")
	})
}

func TestInvalidateWithoutEntriesIsHarmless(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		if err := h.cache.Invalidate(ctx, tenantA, []string{"sessions", "credits"}); err != nil {
			t.Fatalf("Invalidate before any read: %v", err)
		}
		if err := h.cache.Invalidate(ctx, tenantA, nil); err != nil {
			t.Fatalf("Invalidate without tags: %v", err)
		}

		var calls atomic.Int64
		r := readRequest(tenantA, getSession, sessionPolicy())
		mustDo(t, h.cache, r, countingLoad(&calls, "v1"))
		checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, "v2")), StatusHit, "v1")
	})
}

func TestDoCollapsesConcurrentMisses(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		const callers = 50
		var joined sync.WaitGroup
		joined.Add(callers)
		h.cache.flights.onJoin = func(bool) { joined.Done() }

		release := make(chan struct{})
		var calls atomic.Int64
		load := func(context.Context) ([]byte, error) {
			calls.Add(1)
			<-release
			return []byte("shared"), nil
		}

		r := readRequest(tenantA, getSession, sessionPolicy())
		results := make([]Result, callers)
		errs := make([]error, callers)
		var done sync.WaitGroup
		for i := range callers {
			done.Go(func() {
				results[i], errs[i] = h.cache.Do(context.Background(), r, load)
			})
		}
		joined.Wait()
		close(release)
		done.Wait()

		checkCalls(t, &calls, 1)
		for i := range callers {
			if errs[i] != nil {
				t.Fatalf("caller %d: %v", i, errs[i])
			}
			checkResult(t, results[i], StatusMiss, "shared")
		}
	})
}

func TestDoCallerCancelKeepsSharedLoad(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		var joined sync.WaitGroup
		joined.Add(2)
		h.cache.flights.onJoin = func(bool) { joined.Done() }

		release := make(chan struct{})
		loadErr := make(chan error, 1)
		load := func(ctx context.Context) ([]byte, error) {
			<-release
			loadErr <- ctx.Err()
			return []byte("v1"), nil
		}
		r := readRequest(tenantA, getSession, sessionPolicy())

		canceled, cancel := context.WithCancel(context.Background())
		firstErr := make(chan error, 1)
		go func() {
			_, err := h.cache.Do(canceled, r, load)
			firstErr <- err
		}()
		second := make(chan Result, 1)
		go func() {
			res, _ := h.cache.Do(context.Background(), r, load)
			second <- res
		}()

		joined.Wait()
		cancel()
		if err := <-firstErr; !errors.Is(err, context.Canceled) {
			t.Errorf("canceled caller: error = %v, want context.Canceled", err)
		}
		close(release)

		checkResult(t, <-second, StatusMiss, "v1")
		if err := <-loadErr; err != nil {
			t.Errorf("shared load's context ended: %v", err)
		}
		var calls atomic.Int64
		checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, "v2")), StatusHit, "v1")
	})
}

func TestDoDoesNotCacheErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		var calls atomic.Int64
		r := readRequest(tenantA, getSession, sessionPolicy())

		for range 2 {
			res, err := h.cache.Do(context.Background(), r, failingLoad(&calls, errUpstream))
			if !errors.Is(err, errUpstream) {
				t.Fatalf("error = %v, want %v", err, errUpstream)
			}
			if res.Status != StatusMiss {
				t.Errorf("status = %q, want %q", res.Status, StatusMiss)
			}
		}
		checkCalls(t, &calls, 2)

		checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, "v1")), StatusMiss, "v1")
		checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, "v2")), StatusHit, "v1")
		checkCalls(t, &calls, 3)
	})
}

func TestDoBypassStoresFreshResponse(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		var calls atomic.Int64
		r := readRequest(tenantA, getSession, sessionPolicy())
		mustDo(t, h.cache, r, countingLoad(&calls, "v1"))

		bypass := r
		bypass.Bypass = true
		checkResult(t, mustDo(t, h.cache, bypass, countingLoad(&calls, "v2")), StatusBypass, "v2")
		checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, "v3")), StatusHit, "v2")
		checkCalls(t, &calls, 2)

		res, err := h.cache.Do(context.Background(), bypass, failingLoad(&calls, errUpstream))
		if !errors.Is(err, errUpstream) {
			t.Errorf("failed bypass: error = %v, want %v", err, errUpstream)
		}
		if res.Status != StatusBypass {
			t.Errorf("failed bypass: status = %q, want %q", res.Status, StatusBypass)
		}
		checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, "v4")), StatusHit, "v2")

		if got := h.counter(t, "gateway.cache.bypasses", attrProcedure.String(getSession)); got != 2 {
			t.Errorf("bypasses metric = %d, want 2", got)
		}
	})
}

func TestDoWithoutTTLNeverCaches(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		var calls atomic.Int64
		r := readRequest(tenantA, getSession, Policy{Tags: []string{"sessions"}})
		for i := range 3 {
			value := fmt.Sprintf("v%d", i)
			checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, value)), StatusBypass, value)
		}
		checkCalls(t, &calls, 3)
	})
}

func TestDoServesStaleWithinWindow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		var calls atomic.Int64
		r := readRequest(tenantA, getSession, sessionPolicy())
		mustDo(t, h.cache, r, countingLoad(&calls, "v1"))

		h.clock.Advance(2 * time.Minute)
		res := mustDo(t, h.cache, r, failingLoad(&calls, errUpstream))
		checkResult(t, res, StatusStale, "v1")
		if res.Age != 2*time.Minute {
			t.Errorf("stale age = %s, want 2m", res.Age)
		}

		// An error that is no upstream failure is returned even within the window.
		_, err := h.cache.Do(context.Background(), r, failingLoad(&calls, errNotFound))
		if !errors.Is(err, errNotFound) {
			t.Errorf("non-upstream error = %v, want %v", err, errNotFound)
		}

		// The window ends at TTL plus stale-if-error, inclusive.
		h.clock.Advance(4 * time.Minute)
		checkResult(t, mustDo(t, h.cache, r, failingLoad(&calls, errUpstream)), StatusStale, "v1")

		h.clock.Advance(time.Second)
		res, err = h.cache.Do(context.Background(), r, failingLoad(&calls, errUpstream))
		if !errors.Is(err, errUpstream) {
			t.Errorf("past the window: error = %v, want %v", err, errUpstream)
		}
		if res.Status != StatusMiss || res.Value != nil {
			t.Errorf("past the window: result = %+v, want a miss without value", res)
		}

		if got := h.counter(t, "gateway.cache.stale", attrProcedure.String(getSession)); got != 2 {
			t.Errorf("stale metric = %d, want 2", got)
		}
	})
}

func TestDoNeverServesInvalidatedEntryStale(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		var calls atomic.Int64
		r := readRequest(tenantA, getSession, sessionPolicy())
		mustDo(t, h.cache, r, countingLoad(&calls, "v1"))
		if err := h.cache.Invalidate(context.Background(), tenantA, []string{"sessions"}); err != nil {
			t.Fatalf("Invalidate: %v", err)
		}

		_, err := h.cache.Do(context.Background(), r, failingLoad(&calls, errUpstream))
		if !errors.Is(err, errUpstream) {
			t.Errorf("error = %v, want %v", err, errUpstream)
		}
	})
}

func TestDoWithoutStaleWindowReturnsError(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		var calls atomic.Int64
		r := readRequest(tenantA, getSession, Policy{TTL: time.Minute, Tags: []string{"sessions"}})
		mustDo(t, h.cache, r, countingLoad(&calls, "v1"))

		h.clock.Advance(time.Minute + time.Second)
		_, err := h.cache.Do(context.Background(), r, failingLoad(&calls, errUpstream))
		if !errors.Is(err, errUpstream) {
			t.Errorf("error = %v, want %v", err, errUpstream)
		}
	})
}

func TestDoTurnsLoadPanicIntoError(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		r := readRequest(tenantA, getSession, sessionPolicy())
		_, err := h.cache.Do(context.Background(), r, func(context.Context) ([]byte, error) {
			panic("boom")
		})
		if err == nil || !strings.Contains(err.Error(), "panicked: boom") {
			t.Errorf("error = %v, want one that reports the panic", err)
		}
		if got := h.logs.count("cache load panicked"); got != 1 {
			t.Errorf("panic log records = %d, want 1", got)
		}

		var calls atomic.Int64
		checkResult(t, mustDo(t, h.cache, r, countingLoad(&calls, "v1")), StatusMiss, "v1")
	})
}

func TestMetricsCarryOnlyProcedure(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		var calls atomic.Int64
		r := readRequest(tenantA, getSession, sessionPolicy())
		mustDo(t, h.cache, r, countingLoad(&calls, "v1"))
		mustDo(t, h.cache, r, countingLoad(&calls, "v1"))

		for _, name := range []string{"gateway.cache.hits", "gateway.cache.misses"} {
			points := h.points(t, name)
			if len(points) != 1 {
				t.Fatalf("%s has %d data points, want 1", name, len(points))
			}
			want := attribute.NewSet(attrProcedure.String(getSession))
			if !points[0].Attributes.Equals(&want) {
				t.Errorf("%s attributes = %v, want only %s", name, points[0].Attributes.ToSlice(), attrProcedure)
			}
		}
		up := h.points(t, "gateway.cache.backend.up")
		if len(up) != 1 || up[0].Value != 1 {
			t.Errorf("backend up gauge = %+v, want one point of value 1", up)
		}
	})
}

func TestDoRejectsInvalidRequests(t *testing.T) {
	t.Parallel()
	store := newMemoryStore(t)
	h := newHarness(t, store)
	var calls atomic.Int64
	valid := readRequest(tenantA, getSession, sessionPolicy())

	tests := []struct {
		name    string
		change  func(r *Request)
		load    LoadFunc
		message string
	}{
		{"empty tenant", func(r *Request) { r.Tenant = "" }, countingLoad(&calls, "x"), "tenant is empty"},
		{"empty procedure", func(r *Request) { r.Procedure = "" }, countingLoad(&calls, "x"), "procedure is empty"},
		{"negative TTL", func(r *Request) { r.Policy.TTL = -time.Second }, countingLoad(&calls, "x"), "negative duration"},
		{"negative stale window", func(r *Request) { r.Policy.StaleIfError = -time.Second }, countingLoad(&calls, "x"), "negative duration"},
		{"empty tag", func(r *Request) { r.Policy.Tags = []string{"sessions", ""} }, countingLoad(&calls, "x"), "tag 1 is empty"},
		{"nil load", func(*Request) {}, nil, "load function is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid
			tt.change(&r)
			_, err := h.cache.Do(context.Background(), r, tt.load)
			if err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error = %v, want one containing %q", err, tt.message)
			}
		})
	}
	checkCalls(t, &calls, 0)

	if err := h.cache.Invalidate(context.Background(), "", []string{"sessions"}); err == nil {
		t.Error("Invalidate with an empty tenant: error = nil")
	}
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	t.Parallel()
	store := newMemoryStore(t)
	defer store.Close()

	if _, err := New(nil); err == nil {
		t.Error("New(nil): error = nil")
	}
	_, err := New(store, WithLoadTimeout(0), WithBackendTimeout(-time.Second), WithLogger(nil))
	if err == nil {
		t.Fatal("New with invalid options: error = nil")
	}
	for _, want := range []string{"load timeout", "backend timeout", "logger is nil"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestCloseStopsSharedLoads(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		r := readRequest(tenantA, getSession, sessionPolicy())
		started := make(chan struct{})
		result := make(chan error, 1)
		go func() {
			_, err := h.cache.Do(context.Background(), r, func(ctx context.Context) ([]byte, error) {
				close(started)
				<-ctx.Done()
				return nil, ctx.Err()
			})
			result <- err
		}()
		<-started

		if err := h.cache.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := <-result; !errors.Is(err, context.Canceled) {
			t.Errorf("load running at Close: error = %v, want context.Canceled", err)
		}

		var calls atomic.Int64
		if _, err := h.cache.Do(context.Background(), r, countingLoad(&calls, "v1")); !errors.Is(err, ErrClosed) {
			t.Errorf("Do after Close: error = %v, want ErrClosed", err)
		}
		if err := h.cache.Invalidate(context.Background(), tenantA, []string{"sessions"}); !errors.Is(err, ErrClosed) {
			t.Errorf("Invalidate after Close: error = %v, want ErrClosed", err)
		}
		checkCalls(t, &calls, 0)
	})
}
