package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/simulator/fault"
)

// Limits of the soak test. The load phase stops at soakLoad or after
// soakMaxRounds rounds per worker, whichever comes first. The rounds are
// capped so that all creates (one per round) stay below the 10,000
// idempotency records the simulator keeps: past that it drops the oldest,
// and repeating an early failed create would then make a second session.
const (
	soakWorkers     = 8
	soakLoad        = 30 * time.Second
	soakMaxRounds   = 1000
	soakCallTimeout = 3 * time.Second
	soakFaultEvery  = 150 * time.Millisecond
	// soakPause is how long a worker waits after a failed call, as a
	// client backing off would, instead of spinning on fast failures.
	soakPause = 50 * time.Millisecond
	// soakHeapSlack is how much more heap may be in use after the soak
	// than before it, once everything is closed.
	soakHeapSlack = 8 << 20
)

// soakFaults are the faults injected during the soak, one drawn at random
// every soakFaultEvery. Each applies to the next Times session requests.
var soakFaults = []struct {
	name string
	rule fault.Rule
}{
	{"503 burst", fault.Rule{Status: http.StatusServiceUnavailable, Times: 4,
		Body: `{"error": {"message": "Service unavailable", "code": "UNAVAILABLE"}}`}},
	{"connection reset", fault.Rule{Reset: true, Times: 2}},
	{"latency", fault.Rule{Latency: 150 * time.Millisecond, Times: 6}},
	{"truncated body", fault.Rule{Truncate: 12, Times: 2}},
	{"malformed body", fault.Rule{Malformed: true, Times: 1}},
	{"429 with Retry-After", fault.Rule{Status: http.StatusTooManyRequests, Times: 2,
		Header: map[string]string{"Retry-After": "1"},
		Body:   `{"error": {"message": "Rate limit exceeded", "code": "RATE_LIMITED"}}`}},
	{"hang", fault.Rule{Method: http.MethodPost, Times: 1, Hang: true}},
}

// soakPolicy retries quickly and opens the circuit for short periods, so
// that every part of the policy runs during the soak.
var soakPolicy = upstream.PolicyConfig{
	MaxAttempts: 4, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
	BreakerOpen: 300 * time.Millisecond, DefaultTimeout: 5 * time.Second,
}

func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test skipped under -short: it runs the gateway against injected faults for about 40 s")
	}
	ignore := goleak.IgnoreCurrent()
	before := heapInUse()

	report := runSoak(t)

	t.Log(report)
	goleak.VerifyNone(t, ignore)
	if after := heapInUse(); after > before+soakHeapSlack {
		t.Errorf("heap in use grew from %d to %d bytes, more than %d", before, after, soakHeapSlack)
	}
}

// heapInUse returns the bytes in in-use heap spans after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	return stats.HeapInuse
}

// soakCreate is one session create of the soak and its outcome.
type soakCreate struct {
	crmID, key string
	id         string // the session id when the create returned OK
	err        error
}

// soakReport holds the soak's numbers.
type soakReport struct {
	duration                          time.Duration
	upstreamCalls                     int
	faultsAdded, faultsApplied        map[string]int
	retries, shed                     int64
	creates, createsOK, createsFailed int
	recovered                         int
	reads, readsFailed                int
	ends, endsFailed                  int
	// failures counts failed calls by ErrorInfo reason, or by code when
	// the error has no ErrorInfo.
	failures map[string]int
}

func (r soakReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "soak: %v, %d upstream calls, %d retries, %d calls shed\n",
		r.duration.Round(time.Millisecond), r.upstreamCalls, r.retries, r.shed)
	fmt.Fprintf(&b, "creates: %d (%d OK, %d failed, %d recovered); reads: %d (%d failed); ends: %d (%d failed)\n",
		r.creates, r.createsOK, r.createsFailed, r.recovered, r.reads, r.readsFailed, r.ends, r.endsFailed)
	names := make([]string, 0, len(r.faultsAdded))
	for name := range r.faultsAdded {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&b, "fault %q: %d rules, applied to %d requests\n", name, r.faultsAdded[name], r.faultsApplied[name])
	}
	fmt.Fprintf(&b, "failed calls by code and reason: %v", r.failures)
	return b.String()
}

// runSoak runs the load with faults, checks the upstream's sessions and
// closes everything it started before returning, so that the caller can
// check for leaks.
func runSoak(t *testing.T) soakReport {
	start := time.Now()
	g := startFaultGateway(t, faultGatewayConfig{policy: soakPolicy})
	defer g.close()
	report := soakReport{failures: map[string]int{}}

	load, stop := context.WithTimeout(t.Context(), soakLoad)
	defer stop()
	chaos := startChaos(t, g, load)
	creates := runWorkers(g, load, &report)
	chaos.stop(g, &report)

	g.waitServing(t)
	checkCreates(t, g, creates, &report)
	report.upstreamCalls = g.sim.Calls()["total"]
	report.retries = g.counter(t, "groundcam.upstream.retries")
	report.shed = g.counter(t, "groundcam.upstream.shed")
	report.duration = time.Since(start)
	return report
}

// chaos adds random faults until its context ends.
type chaos struct {
	done  chan struct{}
	mu    sync.Mutex
	names map[string]string // rule id to fault name
	times map[string]int    // rule id to its Times when added
}

func startChaos(t *testing.T, g *faultGateway, ctx context.Context) *chaos {
	c := &chaos{done: make(chan struct{}), names: map[string]string{}, times: map[string]int{}}
	rng := rand.New(rand.NewPCG(1, 2))
	go func() {
		defer close(c.done)
		ticker := time.NewTicker(soakFaultEvery)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
			f := soakFaults[rng.IntN(len(soakFaults))]
			rule := f.rule
			rule.Path = "/v1/sessions*"
			id, err := g.sim.Faults().Add(rule)
			if err != nil {
				t.Errorf("add fault %q: %v", f.name, err)
				return
			}
			c.mu.Lock()
			c.names[id], c.times[id] = f.name, rule.Times
			c.mu.Unlock()
		}
	}()
	return c
}

// stop waits for the chaos goroutine, counts how often each fault applied
// and removes the rules that remain.
func (c *chaos) stop(g *faultGateway, report *soakReport) {
	<-c.done
	remaining := map[string]int{}
	for _, rule := range g.sim.Faults().Rules() {
		remaining[rule.ID] = rule.Times
	}
	g.sim.Faults().Clear()

	report.faultsAdded, report.faultsApplied = map[string]int{}, map[string]int{}
	for id, name := range c.names {
		report.faultsAdded[name]++
		report.faultsApplied[name] += c.times[id] - remaining[id]
	}
}

// runWorkers runs soakWorkers clients that create, read and end sessions
// until ctx ends, and returns every create.
func runWorkers(g *faultGateway, ctx context.Context, report *soakReport) []soakCreate {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		creates []soakCreate
	)
	for worker := range soakWorkers {
		wg.Go(func() {
			var local soakReport
			local.failures = map[string]int{}
			var workerCreates []soakCreate
			for round := 0; round < soakMaxRounds && ctx.Err() == nil; round++ {
				workerCreates = append(workerCreates, g.soakRound(worker, round, &local))
			}
			mu.Lock()
			defer mu.Unlock()
			creates = append(creates, workerCreates...)
			report.add(local)
		})
	}
	wg.Wait()
	return creates
}

// add sums the counts of a worker's report into r.
func (r *soakReport) add(o soakReport) {
	r.creates += o.creates
	r.createsOK += o.createsOK
	r.createsFailed += o.createsFailed
	r.reads += o.reads
	r.readsFailed += o.readsFailed
	r.ends += o.ends
	r.endsFailed += o.endsFailed
	for code, n := range o.failures {
		r.failures[code] += n
	}
}

// fail counts a failed call and pauses the worker.
func (r *soakReport) fail(err error) {
	key := connect.CodeOf(err).String()
	if info, ok := upstream.ErrorInfoOf(err); ok {
		key += " " + info.GetReason()
	}
	r.failures[key]++
	time.Sleep(soakPause)
}

// soakRound creates a session with its own idempotency key and, when that
// worked, reads and ends it.
func (g *faultGateway) soakRound(worker, round int, report *soakReport) soakCreate {
	c := soakCreate{
		crmID: fmt.Sprintf("soak-%d-%d", worker, round),
		key:   fmt.Sprintf("soak-key-%d-%d", worker, round),
	}
	report.creates++
	if c.id, c.err = g.create(c); c.err != nil {
		report.createsFailed++
		report.fail(c.err)
		return c
	}
	report.createsOK++

	ctx, cancel := context.WithTimeout(context.Background(), soakCallTimeout)
	defer cancel()
	report.reads++
	if _, err := g.sessions.GetSession(ctx, connect.NewRequest(&groundcamv1.GetSessionRequest{Id: c.id})); err != nil {
		report.readsFailed++
		report.fail(err)
	}
	report.ends++
	end := &groundcamv1.EndSessionRequest{Id: c.id, AgentDuration: new(12.5)}
	if _, err := g.sessions.EndSession(ctx, connect.NewRequest(end)); err != nil {
		report.endsFailed++
		report.fail(err)
	}
	return c
}

// create sends the create of c and returns the session id.
func (g *faultGateway) create(c soakCreate) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), soakCallTimeout)
	defer cancel()
	req := connect.NewRequest(&groundcamv1.CreateSessionRequest{
		AgentId:     g.agentID,
		ClientPhone: new("+33612345678"),
		SendSms:     new(false),
		CrmId:       new(c.crmID),
	})
	req.Header().Set("Idempotency-Key", c.key)
	res, err := g.sessions.CreateSession(ctx, req)
	if err != nil {
		return "", err
	}
	return res.Msg.GetSession().GetId(), nil
}

// checkCreates checks that every create that returned OK exists exactly
// once upstream, and that every failed one exists at most once and is
// recovered by repeating it with its idempotency key.
func checkCreates(t *testing.T, g *faultGateway, creates []soakCreate, report *soakReport) {
	t.Helper()
	upstreamIDs := g.soakSessions(t)
	for _, c := range creates {
		ids := upstreamIDs[c.crmID]
		if c.err == nil {
			if len(ids) != 1 || ids[0] != c.id {
				t.Errorf("create %s returned %s; upstream has %v", c.crmID, c.id, ids)
			}
			continue
		}
		if len(ids) > 1 {
			t.Errorf("failed create %s (%v) exists %d times upstream: %v", c.crmID, c.err, len(ids), ids)
			continue
		}
		id, err := g.create(c)
		if err != nil {
			t.Errorf("repeat failed create %s: %v", c.crmID, err)
			continue
		}
		if len(ids) == 1 && id != ids[0] {
			t.Errorf("repeated create %s returned %s, want the session it already made, %s", c.crmID, id, ids[0])
			continue
		}
		report.recovered++
	}

	// The repeats created the sessions that were missing, once each.
	upstreamIDs = g.soakSessions(t)
	for _, c := range creates {
		if n := len(upstreamIDs[c.crmID]); n != 1 {
			t.Errorf("after recovery, create %s exists %d times upstream", c.crmID, n)
		}
	}
}

// soakSessions lists every session of the organization, page by page, and
// returns the ids of the soak's sessions by CRM id.
func (g *faultGateway) soakSessions(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	req := &groundcamv1.ListSessionsRequest{Limit: new(int32(100))}
	for page := 0; ; page++ {
		if page > 10_000 {
			t.Fatal("list sessions: more than 10000 pages")
		}
		res, err := g.sessions.ListSessions(t.Context(), connect.NewRequest(req))
		if err != nil {
			t.Fatalf("list sessions: %v", err)
		}
		for _, s := range res.Msg.GetSessions() {
			if crm := s.GetCrmId(); strings.HasPrefix(crm, "soak-") {
				out[crm] = append(out[crm], s.GetId())
			}
		}
		if !res.Msg.GetPagination().GetHasMore() {
			return out
		}
		req.StartAfter = new(res.Msg.GetPagination().GetNextCursor())
	}
}

// waitServing waits until a call gets through, once the circuit that the
// faults may have opened lets calls through again.
func (g *faultGateway) waitServing(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := g.sessions.ListSessions(t.Context(), connect.NewRequest(&groundcamv1.ListSessionsRequest{Limit: new(int32(1))}))
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway still fails once the faults are gone: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// counter returns the sum of an int64 counter over its attributes.
func (g *faultGateway) counter(t *testing.T, name string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := g.metrics.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("collect metrics: %v", err)
	}
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == name {
				for _, dp := range sum.DataPoints {
					total += dp.Value
				}
			}
		}
	}
	return total
}
