package main

import (
	"slices"
	"time"

	"github.com/groundcam/groundcam-gateway/bench"
)

// Result is the aggregate of one case's runs in one mode.
type Result struct {
	Case     string  `json:"case"`
	Size     string  `json:"size"`
	Rung     string  `json:"rung"`
	Protocol string  `json:"protocol"`
	Mode     string  `json:"mode"`
	Clients  int     `json:"clients"`
	Rate     float64 `json:"rate,omitempty"`
	// Env lists the environment variables added to the server process.
	Env  []string `json:"env,omitempty"`
	Runs int      `json:"runs"`
	// Throughput is the median of the runs' completed calls per second.
	Throughput      float64   `json:"throughput"`
	RoundThroughput []float64 `json:"round_throughput"`
	Calls           int64     `json:"calls"`
	Errors          int64     `json:"errors"`
	FirstError      string    `json:"first_error,omitempty"`
	// Latency holds the percentiles of every run's calls together.
	Latency Percentiles `json:"latency"`
	// Service holds, for fixed-rate runs, the percentiles counted from each
	// call's actual start instead of its scheduled start.
	Service *Percentiles `json:"service_latency,omitempty"`
	// ServerAllocs, ServerBytes and ServerCPU are the medians of the runs'
	// server-process heap allocations, allocated bytes and CPU time per
	// call.
	ServerAllocs float64       `json:"server_allocs_per_call"`
	ServerBytes  float64       `json:"server_bytes_per_call"`
	ServerCPU    time.Duration `json:"server_cpu_per_call_ns"`
	// PeakRSS is the largest VmHWM of the runs' server processes.
	PeakRSS uint64 `json:"server_peak_rss_bytes"`
	// Memory holds the last run's server counters as its window closed,
	// which tell heap from stacks in the resident set.
	Memory serverStats `json:"server_memory"`
}

// aggregate combines the runs of one case and mode.
func aggregate(c bench.Case, runs []measurement) Result {
	first := runs[0].spec
	r := Result{
		Case:     c.Name(),
		Size:     c.Size.Name,
		Rung:     string(c.Rung),
		Protocol: string(c.Protocol),
		Mode:     first.mode,
		Clients:  first.clients,
		Rate:     first.rate,
		Env:      first.env,
		Runs:     len(runs),
	}
	var latencies, service []time.Duration
	var allocs, bytes, cpu []float64
	for _, m := range runs {
		r.RoundThroughput = append(r.RoundThroughput, m.throughput())
		r.Calls += m.outcome.calls
		r.Errors += m.outcome.errors
		if r.FirstError == "" && m.outcome.firstError != nil {
			r.FirstError = m.outcome.firstError.Error()
		}
		latencies = append(latencies, m.outcome.latencies...)
		service = append(service, m.outcome.service...)
		a, b, c := m.perCall()
		allocs, bytes, cpu = append(allocs, a), append(bytes, b), append(cpu, float64(c))
		r.PeakRSS = max(r.PeakRSS, m.after.PeakRSS)
		r.Memory = m.after
	}
	r.Throughput = median(r.RoundThroughput)
	r.Latency = percentiles(latencies)
	if len(service) > 0 {
		p := percentiles(service)
		r.Service = &p
	}
	r.ServerAllocs, r.ServerBytes = median(allocs), median(bytes)
	r.ServerCPU = time.Duration(median(cpu))
	return r
}

// median returns the median of values, the mean of the middle two for an
// even count, or 0 for none.
func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	mid := len(sorted) / 2
	if len(sorted)%2 == 0 {
		return (sorted[mid-1] + sorted[mid]) / 2
	}
	return sorted[mid]
}
