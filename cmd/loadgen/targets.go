package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/groundcam/groundcam-gateway/bench"
)

// The gateway's cost targets, as ratios or differences within one run.
const (
	minHitThroughputRatio  = 0.85
	maxHitAllocRatio       = 1.2
	maxMissP50Overhead     = 60 * time.Microsecond
	maxMissP99Overhead     = 250 * time.Microsecond
	minRESTThroughputRatio = 1.0
	maxPeakRSS             = 64 << 20
)

// check is one measure of a target.
type check struct {
	source string
	value  float64
	met    bool
}

// targetLine is one target of one size with its measures.
type targetLine struct {
	size, name string
	checks     []check
	detail     string
}

// verdict returns "met" when every measure meets the target, "missed"
// when none does, "mixed" otherwise and "no data" without measures.
func (t targetLine) verdict() string {
	met := 0
	for _, c := range t.checks {
		if c.met {
			met++
		}
	}
	switch {
	case len(t.checks) == 0:
		return "no data"
	case met == len(t.checks):
		return "met"
	case met == 0:
		return "missed"
	}
	return "mixed"
}

func printTargets(w io.Writer, r *Report, gb *goBench) {
	var lines []targetLine
	for _, size := range sizesOf(r.Closed) {
		lines = append(lines, hitTargets(r, gb, size)...)
		lines = append(lines, missTargets(r, size)...)
		lines = append(lines, restTarget(r, gb, size))
	}
	for _, res := range r.RSS {
		if res.Rung != string(bench.RungHit) {
			continue
		}
		lines = append(lines, targetLine{
			size:   res.Size,
			name:   fmt.Sprintf("peak RSS < 64 MiB with %d %s clients%s", res.Clients, res.Protocol, envLabel(res.Env)),
			checks: []check{{source: "MiB", value: mib(res.PeakRSS), met: res.PeakRSS < maxPeakRSS}},
		})
	}

	fmt.Fprintln(w, "targets (ratios within this run; load = load harness, go test = loopback benchmark,"+
		" go test CPU = its inverse CPU per call, memory = in-memory handler benchmark)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range lines {
		var measures []string
		for _, c := range t.checks {
			measures = append(measures, fmt.Sprintf("%s %.2f", c.source, c.value))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.size, t.name, strings.Join(measures, ", "), t.verdict(), t.detail)
	}
	_ = tw.Flush()
}

// hitTargets compares the cached gateway with the bare handler over the
// Connect protocol: throughput and allocations per call.
func hitTargets(r *Report, gb *goBench, size string) []targetLine {
	hitName := string(bench.RungHit) + "/" + string(bench.ProtocolConnect)
	bareName := string(bench.RungBare) + "/" + string(bench.ProtocolConnect)
	throughput := targetLine{size: size, name: "cache-hit Connect throughput ≥ 0.85× bare"}
	allocs := targetLine{size: size, name: "allocations per cache hit ≤ 1.2× bare"}

	hit, bare := findCase(r.Closed, size, hitName), findCase(r.Closed, size, bareName)
	if hit != nil && bare != nil {
		ratio := hit.Throughput / bare.Throughput
		throughput.checks = append(throughput.checks, check{"load", ratio, ratio >= minHitThroughputRatio})
		if bare.ServerAllocs > 0 {
			ratio := hit.ServerAllocs / bare.ServerAllocs
			allocs.checks = append(allocs.checks, check{"load", ratio, ratio <= maxHitAllocRatio})
		}
	}
	if ratio, ok := goRatio(gb, "Ladder", size, hitName, bareName, "req/s"); ok {
		throughput.checks = append(throughput.checks, check{"go test", ratio, ratio >= minHitThroughputRatio})
	}
	// On a saturated machine throughput is the inverse of CPU per call.
	if ratio, ok := goRatio(gb, "Ladder", size, bareName, hitName, "cpu-ns/op"); ok {
		throughput.checks = append(throughput.checks, check{"go test CPU", ratio, ratio >= minHitThroughputRatio})
	}
	if ratio, ok := goRatio(gb, "Handler", size, hitName, bareName, "allocs/op"); ok {
		allocs.checks = append(allocs.checks, check{"memory", ratio, ratio <= maxHitAllocRatio})
	}
	return []targetLine{throughput, allocs}
}

// missTargets compares the uncached gateway's fixed-rate latency with the
// direct call's.
func missTargets(r *Report, size string) []targetLine {
	missName := string(bench.RungMiss) + "/" + string(bench.ProtocolConnect)
	directName := string(bench.RungDirect) + "/" + string(bench.ProtocolREST)
	miss, direct := findCase(r.Fixed, size, missName), findCase(r.Fixed, size, directName)
	p50 := targetLine{size: size, name: "cache-miss p50 ≤ direct + 60µs at half saturation"}
	p99 := targetLine{size: size, name: "cache-miss p99 ≤ direct + 250µs at half saturation"}
	if miss == nil || direct == nil {
		return []targetLine{p50, p99}
	}
	d50 := miss.Latency.P50 - direct.Latency.P50
	d99 := miss.Latency.P99 - direct.Latency.P99
	p50.checks = []check{{"+µs", d50.Seconds() * 1e6, d50 <= maxMissP50Overhead}}
	p99.checks = []check{{"+µs", d99.Seconds() * 1e6, d99 <= maxMissP99Overhead}}
	p50.detail = fmt.Sprintf("%s vs %s at %.0f req/s", micros(miss.Latency.P50), micros(direct.Latency.P50), miss.Rate)
	p99.detail = fmt.Sprintf("%s vs %s", micros(miss.Latency.P99), micros(direct.Latency.P99))
	// The proxy is the floor of any miss: it shows how much of the gap is
	// the extra hop and how much the gateway's own work.
	proxyName := string(bench.RungProxy) + "/" + string(bench.ProtocolREST)
	if proxy := findCase(r.Fixed, size, proxyName); proxy != nil {
		p50.detail += fmt.Sprintf("; net/http proxy %s", micros(proxy.Latency.P50))
		p99.detail += fmt.Sprintf("; net/http proxy %s", micros(proxy.Latency.P99))
	}
	return []targetLine{p50, p99}
}

// restTarget compares the REST face's throughput with vanguard's.
func restTarget(r *Report, gb *goBench, size string) targetLine {
	restName := string(bench.RungREST) + "/" + string(bench.ProtocolREST)
	vanguardName := string(bench.RungVanguard) + "/" + string(bench.ProtocolREST)
	t := targetLine{size: size, name: "REST face throughput ≥ vanguard's"}
	rest, vanguard := findCase(r.Closed, size, restName), findCase(r.Closed, size, vanguardName)
	if rest != nil && vanguard != nil {
		ratio := rest.Throughput / vanguard.Throughput
		t.checks = append(t.checks, check{"load", ratio, ratio >= minRESTThroughputRatio})
	}
	if ratio, ok := goRatio(gb, "Ladder", size, restName, vanguardName, "req/s"); ok {
		t.checks = append(t.checks, check{"go test", ratio, ratio >= minRESTThroughputRatio})
	}
	if ratio, ok := goRatio(gb, "Ladder", size, vanguardName, restName, "cpu-ns/op"); ok {
		t.checks = append(t.checks, check{"go test CPU", ratio, ratio >= minRESTThroughputRatio})
	}
	return t
}

// goRatio returns the ratio of two cases' medians in one benchmark.
func goRatio(gb *goBench, benchmark, size, name, base, unit string) (float64, bool) {
	v, ok := gb.median(benchmark+"/"+size+"/"+name, unit)
	if !ok {
		return 0, false
	}
	b, ok := gb.median(benchmark+"/"+size+"/"+base, unit)
	if !ok || b == 0 {
		return 0, false
	}
	return v / b, true
}
