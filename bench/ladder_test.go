package bench_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/groundcam/groundcam-gateway/bench"
)

// loopbackClients is the number of concurrent clients of each loopback
// benchmark: enough to keep both cores of a small machine busy.
const loopbackClients = 16

// warmupCalls are made before each benchmark's timer starts. The first
// fills the cache of the cached rungs and the rest open connections.
const warmupCalls = 32

// BenchmarkLadder calls every case over loopback sockets from
// loopbackClients goroutines. Its ns/op is the inverse of the throughput
// (req/s), and its allocations and cpu-ns/op (the process's user and
// system CPU time per call) count both the client's and the server's.
// CPU time per call varies less than throughput when other processes
// compete for the machine.
func BenchmarkLadder(b *testing.B) {
	l := startLadder(b)
	clients := bench.NewClients(loopbackClients)
	b.Cleanup(clients.CloseIdleConnections)
	parallelism := max(1, (loopbackClients+runtime.GOMAXPROCS(0)-1)/runtime.GOMAXPROCS(0))
	for _, c := range bench.Ladder(l.sizes) {
		b.Run(c.Name(), func(b *testing.B) {
			call, err := bench.NewCaller(c.Protocol, c.Size, l.urls[c.Rung], clients)
			if err != nil {
				b.Fatalf("NewCaller: %v", err)
			}
			ctx := context.Background()
			for range warmupCalls {
				if err := call(ctx); err != nil {
					b.Fatalf("warm-up call: %v", err)
				}
			}

			var failed atomic.Int64
			var firstErr atomic.Value
			b.ReportAllocs()
			b.SetParallelism(parallelism)
			cpu := processCPU(b)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := call(ctx); err != nil && failed.Add(1) == 1 {
						firstErr.Store(err)
					}
				}
			})
			b.StopTimer()
			cpu = processCPU(b) - cpu
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d of %d calls failed, the first with: %v", n, b.N, firstErr.Load())
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkHandler serves every case from memory, one call at a time,
// without sockets or a client: its ns/op, cpu-ns/op and allocations are
// the server's alone. The uncached rung, the proxy and the direct call are
// left out, because each is dominated by a real upstream round trip.
func BenchmarkHandler(b *testing.B) {
	l := startLadder(b)
	for _, c := range bench.Ladder(l.sizes) {
		if c.Rung == bench.RungMiss || c.Rung == bench.RungProxy || c.Rung == bench.RungDirect {
			continue
		}
		b.Run(c.Name(), func(b *testing.B) {
			h := l.servers[c.Rung].Handler
			req := newMemoryRequest(b, c)
			w := newMemoryWriter()
			// The first call fills the cache of the cached rungs.
			for range 2 {
				serveMemory(b, h, req, w)
			}

			b.ReportAllocs()
			cpu := processCPU(b)
			for b.Loop() {
				req.reset()
				w.reset()
				h.ServeHTTP(w, req.r)
			}
			cpu = processCPU(b) - cpu
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			if w.status != 200 {
				b.Fatalf("last call answered HTTP %d: %s", w.status, w.body.Bytes())
			}
		})
	}
}

// processCPU returns the user and system CPU time the process has used,
// every goroutine and the garbage collector included.
func processCPU(tb testing.TB) time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}
