package main

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/groundcam/groundcam-gateway/bench"
)

// window is the measured part of a run: calls that complete in it are
// counted, calls that complete during the warm-up are not.
type window struct {
	// onStart and onEnd run as the window opens and closes, to snapshot the
	// server's counters.
	onStart, onEnd func()
}

// outcome holds the latencies and counts that the clients of one run
// recorded in the window.
type outcome struct {
	// latencies holds every successful call's latency in the window. In a
	// fixed-rate run it counts from the call's scheduled start.
	latencies []time.Duration
	// service holds, in a fixed-rate run, the same calls' latencies from
	// their actual start.
	service []time.Duration
	calls   int64
	errors  int64
	// firstError is the first failed call's error, for the report.
	firstError error
	elapsed    time.Duration
}

// recorder is one client goroutine's record, merged after the run.
type recorder struct {
	latencies []time.Duration
	service   []time.Duration
	calls     int64
	errors    int64
	firstErr  error
}

func (r *recorder) record(latency, service time.Duration, err error, fixedRate bool) {
	r.calls++
	if err != nil {
		r.errors++
		if r.firstErr == nil {
			r.firstErr = err
		}
		return
	}
	r.latencies = append(r.latencies, latency)
	if fixedRate {
		r.service = append(r.service, service)
	}
}

// closedLoop runs clients goroutines that each call again as soon as the
// previous call returns, for warmup and then for duration.
func closedLoop(ctx context.Context, call bench.Caller, clients int, warmup, duration time.Duration, w window) outcome {
	var measuring, stopped atomic.Bool
	recorders := make([]*recorder, clients)
	var wg sync.WaitGroup
	for i := range recorders {
		rec := &recorder{}
		recorders[i] = rec
		wg.Go(func() {
			for !stopped.Load() {
				start := time.Now()
				err := call(ctx)
				if measuring.Load() {
					latency := time.Since(start)
					rec.record(latency, latency, err, false)
				}
			}
		})
	}
	elapsed := measureWindow(ctx, warmup, duration, w, &measuring)
	stopped.Store(true)
	wg.Wait()
	return merge(recorders, elapsed)
}

// measureWindow waits out the warm-up, opens the window for duration and
// closes it. It returns the window's length.
func measureWindow(ctx context.Context, warmup, duration time.Duration, w window, measuring *atomic.Bool) time.Duration {
	sleep(ctx, warmup)
	if w.onStart != nil {
		w.onStart()
	}
	start := time.Now()
	measuring.Store(true)
	sleep(ctx, duration)
	measuring.Store(false)
	elapsed := time.Since(start)
	if w.onEnd != nil {
		w.onEnd()
	}
	return elapsed
}

// fixedRate sends rate calls per second on a fixed schedule for warmup
// and then for duration, from up to workers concurrent calls. A call that
// starts late because every worker was busy counts its latency from its
// scheduled start. So the wait behind slow calls is charged to the server,
// and the calls that a stalled server would have received are not omitted
// (coordinated omission). A call whose worker was idle counts from its
// actual start, because its lateness is only the timer's wake-up delay.
func fixedRate(ctx context.Context, call bench.Caller, rate float64, workers int, warmup, duration time.Duration, w window) outcome {
	interval := time.Duration(float64(time.Second) / rate)
	var next atomic.Int64
	var measuring, stopped atomic.Bool
	begin := time.Now()
	recorders := make([]*recorder, workers)
	var wg sync.WaitGroup
	for i := range recorders {
		rec := &recorder{}
		recorders[i] = rec
		wg.Go(func() {
			for !stopped.Load() && ctx.Err() == nil {
				scheduled := begin.Add(time.Duration(next.Add(1)-1) * interval)
				slept := false
				if wait := time.Until(scheduled); wait > 0 {
					time.Sleep(wait)
					slept = true
				}
				if stopped.Load() {
					return
				}
				start := time.Now()
				if slept {
					// The worker was idle at the scheduled time, so a late
					// wake-up is the timer's, not a backlog's.
					scheduled = start
				}
				err := call(ctx)
				done := time.Now()
				if measuring.Load() {
					rec.record(done.Sub(scheduled), done.Sub(start), err, true)
				}
			}
		})
	}
	elapsed := measureWindow(ctx, warmup, duration, w, &measuring)
	stopped.Store(true)
	wg.Wait()
	return merge(recorders, elapsed)
}

func merge(recorders []*recorder, elapsed time.Duration) outcome {
	out := outcome{elapsed: elapsed}
	for _, r := range recorders {
		out.latencies = append(out.latencies, r.latencies...)
		out.service = append(out.service, r.service...)
		out.calls += r.calls
		out.errors += r.errors
		if out.firstError == nil {
			out.firstError = r.firstErr
		}
	}
	return out
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// Percentiles of a latency distribution.
type Percentiles struct {
	P50  time.Duration `json:"p50_ns"`
	P90  time.Duration `json:"p90_ns"`
	P99  time.Duration `json:"p99_ns"`
	P999 time.Duration `json:"p999_ns"`
	Max  time.Duration `json:"max_ns"`
}

// percentiles returns the nearest-rank percentiles of samples, which it
// sorts.
func percentiles(samples []time.Duration) Percentiles {
	if len(samples) == 0 {
		return Percentiles{}
	}
	slices.Sort(samples)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(samples))+0.999999) - 1
		return samples[min(max(i, 0), len(samples)-1)]
	}
	return Percentiles{
		P50:  rank(0.50),
		P90:  rank(0.90),
		P99:  rank(0.99),
		P999: rank(0.999),
		Max:  samples[len(samples)-1],
	}
}
