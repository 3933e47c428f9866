package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/groundcam/groundcam-gateway/bench"
)

// printReport writes the ladder's tables: per size, the closed-loop
// results with each case's ratio to its base, then the fixed-rate and
// resident-set runs, then the targets. gb adds the in-process benchmarks
// when not nil.
func printReport(w io.Writer, r *Report, gb *goBench) {
	m := r.Machine
	fmt.Fprintf(w, "ladder of %s, %s to %s\n", r.Started.Format("2006-01-02"),
		r.Started.Format("15:04:05"), r.Finished.Format("15:04:05 MST"))
	fmt.Fprintf(w, "machine: %s, %d cores, GOMAXPROCS %d, %s; load average %s before, %s after\n\n",
		m.CPUModel, m.Cores, m.GOMAXPROCS, m.GoVersion, m.LoadBefore, m.LoadAfter)

	for _, size := range sizesOf(r.Closed) {
		printClosed(w, r, size)
		if gb != nil {
			printGoBench(w, r, gb, size)
		}
	}
	printFixed(w, r)
	for _, res := range r.RSS {
		fmt.Fprintf(w, "resident set: %s with %d clients%s, %.0f req/s, p99 %s, %d errors: server peak RSS %.1f MiB"+
			" (at the end: heap in use %.1f MiB, stacks %.1f MiB, from the OS %.1f MiB, %d goroutines)\n",
			res.Case, res.Clients, envLabel(res.Env), res.Throughput, micros(res.Latency.P99), res.Errors,
			mib(res.PeakRSS), mib(res.Memory.HeapInuse), mib(res.Memory.StackInuse), mib(res.Memory.Sys),
			res.Memory.Goroutines)
	}
	if len(r.RSS) > 0 {
		fmt.Fprintln(w)
	}
	printTargets(w, r, gb)
}

// printClosed writes the load harness's closed-loop table of one size.
func printClosed(w io.Writer, r *Report, size string) {
	clients := 0
	for _, res := range r.Closed {
		clients = max(clients, res.Clients)
	}
	fmt.Fprintf(w, "%s: load harness, closed loop, %d clients, server in its own process (medians of runs)\n",
		size, clients)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tbase\treq/s\t×base\tp50\tp90\tp99\tp99.9\tsrv allocs/call\tsrv B/call\tsrv CPU/call\terrors\t")
	for _, res := range r.Closed {
		if res.Size != size {
			continue
		}
		base := baseCase(res.Rung, res.Protocol)
		ratio := "-"
		if b := findCase(r.Closed, size, base); b != nil {
			ratio = fmt.Sprintf("%.2f", res.Throughput/b.Throughput)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.0f\t%s\t%d\t\n",
			caseLabel(res), orDash(base), res.Throughput, ratio, micros(res.Latency.P50),
			micros(res.Latency.P90), micros(res.Latency.P99), micros(res.Latency.P999),
			res.ServerAllocs, res.ServerBytes, micros(res.ServerCPU), res.Errors)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
}

// printGoBench writes the in-process benchmarks' table of one size. CPU
// columns are the process's CPU time per call, which varies less than
// throughput on a machine that other processes load.
func printGoBench(w io.Writer, r *Report, gb *goBench, size string) {
	fmt.Fprintf(w, "%s: go test -bench (medians of runs); loopback: client and server in one process,"+
		" memory: the handler alone\n", size)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tbase\tloopback req/s\t×base\tCPU/call\t×base\tallocs/call"+
		"\tmemory CPU/call\t×base\tallocs/call\t×base\t")
	for _, c := range ladderCases(r, size) {
		name := size + "/" + c.rung + "/" + c.protocol
		base := baseCase(c.rung, c.protocol)
		row := []string{c.rung + "/" + c.protocol, orDash(base)}
		for _, col := range []struct {
			benchmark, unit string
			inverse         bool
		}{
			{"Ladder", "req/s", false},
			{"Ladder", "cpu-ns/op", true},
			{"Ladder", "allocs/op", true},
			{"Handler", "cpu-ns/op", true},
			{"Handler", "allocs/op", true},
		} {
			v, ok := gb.median(col.benchmark+"/"+name, col.unit)
			row = append(row, formatValue(v, ok, col.unit))
			if col.benchmark == "Ladder" && col.unit == "allocs/op" {
				continue // allocations over loopback count the client's too
			}
			row = append(row, goRatioCell(gb, col.benchmark, size, c.rung+"/"+c.protocol, base, col.unit))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
}

// formatValue formats a benchmark value of unit, or "-" when missing.
func formatValue(v float64, ok bool, unit string) string {
	switch {
	case !ok:
		return "-"
	case unit == "cpu-ns/op":
		return micros(time.Duration(v))
	}
	return fmt.Sprintf("%.0f", v)
}

// goRatioCell formats the ratio of a case to its base in one benchmark.
func goRatioCell(gb *goBench, benchmark, size, name, base, unit string) string {
	if base == "" {
		return "-"
	}
	ratio, ok := goRatio(gb, benchmark, size, name, base, unit)
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.2f", ratio)
}

// printFixed writes the fixed-rate table.
func printFixed(w io.Writer, r *Report) {
	if len(r.Fixed) == 0 {
		return
	}
	fmt.Fprintln(w, "fixed rate at half the uncached gateway's closed-loop throughput;"+
		" latency counted from each call's scheduled start (service: from its actual start)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\trate\tdone/s\tp50\tp90\tp99\tp99.9\tmax\tservice p50\tservice p99\terrors\t")
	for _, res := range r.Fixed {
		svc := Percentiles{}
		if res.Service != nil {
			svc = *res.Service
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n",
			res.Case, res.Rate, res.Throughput, micros(res.Latency.P50), micros(res.Latency.P90),
			micros(res.Latency.P99), micros(res.Latency.P999), micros(res.Latency.Max),
			micros(svc.P50), micros(svc.P99), res.Errors)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
}

// baseCase names the case that a case's ratios compare with, as
// "rung/protocol", or "" for the floor of a comparison.
func baseCase(rung, protocol string) string {
	switch bench.Rung(rung) {
	case bench.RungBare:
		return string(bench.RungRaw) + "/" + string(bench.ProtocolRaw)
	case bench.RungHit, bench.RungTraced:
		return string(bench.RungBare) + "/" + protocol
	case bench.RungMiss, bench.RungProxy:
		return string(bench.RungDirect) + "/" + string(bench.ProtocolREST)
	case bench.RungREST:
		return string(bench.RungVanguard) + "/" + string(bench.ProtocolREST)
	}
	return ""
}

// findCase returns the result of size's "rung/protocol" case, or nil.
func findCase(results []Result, size, rungProtocol string) *Result {
	for i := range results {
		if results[i].Size == size && results[i].Rung+"/"+results[i].Protocol == rungProtocol {
			return &results[i]
		}
	}
	return nil
}

// ladderCase is a case by name, for tables of the in-process benchmarks.
type ladderCase struct{ rung, protocol string }

// ladderCases returns the report's cases of size in ladder order.
func ladderCases(r *Report, size string) []ladderCase {
	var cases []ladderCase
	for _, res := range r.Closed {
		if res.Size == size {
			cases = append(cases, ladderCase{res.Rung, res.Protocol})
		}
	}
	return cases
}

func sizesOf(results []Result) []string {
	var sizes []string
	seen := make(map[string]bool)
	for _, res := range results {
		if !seen[res.Size] {
			seen[res.Size] = true
			sizes = append(sizes, res.Size)
		}
	}
	return sizes
}

// envLabel formats the environment of a server process, or "" for none.
func envLabel(env []string) string {
	if len(env) == 0 {
		return ""
	}
	return " and " + strings.Join(env, " ")
}

func caseLabel(r Result) string { return r.Rung + "/" + r.Protocol }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// micros formats d in microseconds, with a decimal below 10 µs, or in
// milliseconds from 10 ms on.
func micros(d time.Duration) string {
	switch {
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", d.Seconds()*1e3)
	case d < 10*time.Microsecond:
		return fmt.Sprintf("%.1fµs", d.Seconds()*1e6)
	}
	return fmt.Sprintf("%.0fµs", d.Seconds()*1e6)
}

func mib(bytes uint64) float64 { return float64(bytes) / (1 << 20) }
