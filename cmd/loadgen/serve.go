package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/groundcam/groundcam-gateway/bench"
)

// serverStats are a server process's counters at one moment.
type serverStats struct {
	// Mallocs and TotalAlloc are runtime.MemStats' cumulative counts of
	// heap objects and bytes allocated.
	Mallocs    uint64 `json:"mallocs"`
	TotalAlloc uint64 `json:"total_alloc_bytes"`
	NumGC      uint32 `json:"num_gc"`
	// HeapInuse, StackInuse and Sys are runtime.MemStats' bytes in heap
	// spans in use, in goroutine stacks, and obtained from the system.
	HeapInuse  uint64 `json:"heap_inuse_bytes"`
	StackInuse uint64 `json:"stack_inuse_bytes"`
	Sys        uint64 `json:"sys_bytes"`
	// PeakRSS is VmHWM from /proc/self/status: the largest resident set
	// the process has had, in bytes.
	PeakRSS uint64 `json:"peak_rss_bytes"`
	// RSS is VmRSS, the resident set now, in bytes.
	RSS uint64 `json:"rss_bytes"`
	// CPU is the process's user plus system CPU time.
	CPU        time.Duration `json:"cpu_ns"`
	Goroutines int           `json:"goroutines"`
}

// readyLine is the first line a server process writes on its stdout.
type readyLine struct {
	// URL is the root of the rung's server, such as
	// "http://127.0.0.1:41234".
	URL string `json:"url"`
	// Control is the root of the process's own server, which serves
	// GET /stats.
	Control string `json:"control"`
}

// maxServeLifetime bounds a server process that its parent failed to stop.
const maxServeLifetime = 15 * time.Minute

// runServe is the "serve" command: it serves one rung on 127.0.0.1 until
// its stdin closes, its parent stops it or the lifetime runs out.
func runServe(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("loadgen serve", flag.ContinueOnError)
	rung := fs.String("rung", "", "rung to serve, such as L2-hit")
	upstreamURL := fs.String("upstream", "", "root URL of the upstream stub, for the gateway rungs")
	lifetime := fs.Duration("max-lifetime", maxServeLifetime, "stop after this long even if never told to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkLoopbackURL(*upstreamURL); err != nil {
		return err
	}
	sizes, err := bench.Sizes()
	if err != nil {
		return err
	}
	srv, err := bench.NewServer(bench.Rung(*rung), sizes, *upstreamURL)
	if err != nil {
		return err
	}
	defer srv.Close()

	api := bench.Serve(srv.Handler)
	defer api.Close()
	control := bench.Serve(http.HandlerFunc(serveStats))
	defer control.Close()
	if err := json.NewEncoder(stdout).Encode(readyLine{URL: api.URL, Control: control.URL}); err != nil {
		return fmt.Errorf("write ready line: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, *lifetime)
	defer cancel()
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, bufio.NewReader(stdin))
		close(closed)
	}()
	select {
	case <-closed:
	case <-ctx.Done():
	}
	return nil
}

// serveStats writes the process's counters as JSON.
func serveStats(w http.ResponseWriter, _ *http.Request) {
	stats, err := readStats()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(stats)
}

func readStats() (serverStats, error) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	peak, rss, err := readRSS()
	if err != nil {
		return serverStats{}, err
	}
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return serverStats{}, fmt.Errorf("getrusage: %w", err)
	}
	return serverStats{
		Mallocs:    ms.Mallocs,
		TotalAlloc: ms.TotalAlloc,
		NumGC:      ms.NumGC,
		HeapInuse:  ms.HeapInuse,
		StackInuse: ms.StackInuse,
		Sys:        ms.Sys,
		PeakRSS:    peak,
		RSS:        rss,
		CPU:        time.Duration(usage.Utime.Nano() + usage.Stime.Nano()),
		Goroutines: runtime.NumGoroutine(),
	}, nil
}

// readRSS returns VmHWM and VmRSS from /proc/self/status, in bytes.
func readRSS() (peak, rss uint64, err error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, fmt.Errorf("read process status: %w", err)
	}
	peak, okPeak := statusKiB(data, "VmHWM:")
	rss, okRSS := statusKiB(data, "VmRSS:")
	if !okPeak || !okRSS {
		return 0, 0, errors.New("read process status: no VmHWM or VmRSS line")
	}
	return peak, rss, nil
}
