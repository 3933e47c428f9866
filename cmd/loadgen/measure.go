package main

import (
	"context"
	"fmt"
	"time"

	"github.com/groundcam/groundcam-gateway/bench"
)

// Modes of a run.
const (
	modeClosed = "closed"
	modeFixed  = "fixed-rate"
)

// spec describes one run of one case.
type spec struct {
	c    bench.Case
	mode string
	// clients is the number of concurrent clients of a closed-loop run and
	// the most concurrent calls of a fixed-rate run.
	clients int
	// rate is the fixed rate in calls per second.
	rate             float64
	warmup, duration time.Duration
	// env adds environment variables to the server process.
	env []string
}

// measurement is one run's result.
type measurement struct {
	spec    spec
	outcome outcome
	// before and after are the server's counters as the window opened and
	// closed.
	before, after serverStats
}

// throughput returns the completed calls per second in the window.
func (m measurement) throughput() float64 {
	return float64(m.outcome.calls) / m.outcome.elapsed.Seconds()
}

// perCall returns the server's allocations, allocated bytes and CPU time
// per call in the window.
func (m measurement) perCall() (allocs, bytes float64, cpu time.Duration) {
	n := m.outcome.calls
	if n == 0 {
		return 0, 0, 0
	}
	allocs = float64(m.after.Mallocs-m.before.Mallocs) / float64(n)
	bytes = float64(m.after.TotalAlloc-m.before.TotalAlloc) / float64(n)
	cpu = (m.after.CPU - m.before.CPU) / time.Duration(n)
	return allocs, bytes, cpu
}

// measure starts a fresh server process for the case's rung, runs the
// load against it and stops it. upstreamURL is the stub's root, for the
// gateway rungs.
func measure(ctx context.Context, s spec, upstreamURL string) (measurement, error) {
	var stubURL string
	if s.c.Rung.NeedsUpstream() {
		stubURL = upstreamURL
	}
	srv, err := startChild(ctx, s.c.Rung, stubURL, s.env...)
	if err != nil {
		return measurement{}, err
	}
	defer srv.stop()

	clients := bench.NewClients(s.clients)
	defer clients.CloseIdleConnections()
	call, err := newCheckedCaller(ctx, s.c, srv, clients)
	if err != nil {
		return measurement{}, err
	}
	return measureOn(ctx, srv, s, call)
}

// newCheckedCaller returns the case's call to srv after one successful
// call, so that a server that cannot respond fails the run at once.
func newCheckedCaller(ctx context.Context, c bench.Case, srv *child, clients *bench.Clients) (bench.Caller, error) {
	call, err := bench.NewCaller(c.Protocol, c.Size, srv.ready.URL, clients)
	if err != nil {
		return nil, err
	}
	if err := call(ctx); err != nil {
		return nil, fmt.Errorf("%s: first call: %w", c.Name(), err)
	}
	return call, nil
}

// measureOn runs the load of s with call against the running server srv.
func measureOn(ctx context.Context, srv *child, s spec, call bench.Caller) (measurement, error) {
	m := measurement{spec: s}
	var statsErr error
	w := window{
		onStart: func() { m.before, statsErr = srv.stats(ctx) },
		onEnd: func() {
			var err error
			if m.after, err = srv.stats(ctx); statsErr == nil {
				statsErr = err
			}
		},
	}
	switch s.mode {
	case modeFixed:
		m.outcome = fixedRate(ctx, call, s.rate, s.clients, s.warmup, s.duration, w)
	default:
		m.outcome = closedLoop(ctx, call, s.clients, s.warmup, s.duration, w)
	}
	if statsErr != nil {
		return measurement{}, fmt.Errorf("%s: %w", s.c.Name(), statsErr)
	}
	if m.outcome.calls == 0 {
		return measurement{}, fmt.Errorf("%s: %w", s.c.Name(), errNoCalls)
	}
	return m, ctx.Err()
}
