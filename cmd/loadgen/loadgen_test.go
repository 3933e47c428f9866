package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as the server process that the ladder
// starts: startChild runs its own executable with "serve".
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		if err := runServe(context.Background(), os.Args[2:], os.Stdin, os.Stdout); err != nil {
			os.Stderr.WriteString("loadgen serve: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestPercentiles(t *testing.T) {
	t.Parallel()
	samples := make([]time.Duration, 1000)
	for i := range samples {
		samples[len(samples)-1-i] = time.Duration(i+1) * time.Microsecond
	}
	got := percentiles(samples)
	want := Percentiles{
		P50:  500 * time.Microsecond,
		P90:  900 * time.Microsecond,
		P99:  990 * time.Microsecond,
		P999: 999 * time.Microsecond,
		Max:  1000 * time.Microsecond,
	}
	if got != want {
		t.Errorf("percentiles = %+v, want %+v", got, want)
	}
	if empty := percentiles(nil); empty != (Percentiles{}) {
		t.Errorf("percentiles(nil) = %+v, want zero", empty)
	}
}

func TestParseGoBench(t *testing.T) {
	t.Parallel()
	out := `goos: linux
BenchmarkLadder/small/L2-hit/connect-proto-2   	   10000	    108742 ns/op	     53000 cpu-ns/op	      9196 req/s	   14513 B/op	     216 allocs/op
BenchmarkLadder/small/L2-hit/connect-proto-2   	   10000	    100000 ns/op	     51000 cpu-ns/op	      9000 req/s	   14513 B/op	     216 allocs/op
BenchmarkLadder/small/L2-hit/connect-proto-2   	   10000	    100000 ns/op	     52000 cpu-ns/op	      9100 req/s	   14513 B/op	     216 allocs/op
--- FAIL: BenchmarkHandler/small/L5-vanguard/rest
PASS
`
	gb, err := parseGoBench(strings.NewReader(out))
	if err != nil {
		t.Fatalf("parseGoBench: %v", err)
	}
	name := "Ladder/small/L2-hit/connect-proto"
	for _, tc := range []struct {
		unit string
		want float64
	}{
		{"req/s", 9100},
		{"cpu-ns/op", 52000},
		{"allocs/op", 216},
	} {
		got, ok := gb.median(name, tc.unit)
		if !ok || got != tc.want {
			t.Errorf("median %s = %v, %v; want %v", tc.unit, got, ok, tc.want)
		}
	}
	if _, ok := gb.median("Handler/small/L5-vanguard/rest", "ns/op"); ok {
		t.Error("a failed benchmark has a value")
	}
}

func TestCheckLoopbackURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"", true},
		{"http://127.0.0.1:8080", true},
		{"http://127.0.0.2:8080", true},
		{"http://[::1]:8080", true},
		{"http://localhost:8080", true},
		{"http://10.0.0.1:8080", false},
		{"http://example.com", false},
		{"http://169.254.169.254", false},
	} {
		if err := checkLoopbackURL(tc.url); (err == nil) != tc.ok {
			t.Errorf("checkLoopbackURL(%q) = %v, want ok %v", tc.url, err, tc.ok)
		}
	}
}

func TestStatusKiB(t *testing.T) {
	t.Parallel()
	status := []byte("Name:\tloadgen\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\n")
	if got, ok := statusKiB(status, "VmHWM:"); !ok || got != 50<<20 {
		t.Errorf("VmHWM = %d, %v; want %d", got, ok, 50<<20)
	}
	if _, ok := statusKiB(status, "VmSwap:"); ok {
		t.Error("a missing line was found")
	}
}

// TestLadderSmoke runs a short ladder of a few cases end to end: server
// processes, closed-loop and fixed-rate runs, the resident-set run and the
// report.
func TestLadderSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes and loads them for a few seconds")
	}
	out := filepath.Join(t.TempDir(), "load.json")
	var stdout, stderr bytes.Buffer
	args := []string{"ladder", "-rounds", "1", "-duration", "100ms", "-warmup", "50ms",
		"-cases", "^small/(L0|L2|L4)", "-rate-rounds", "1", "-rate-duration", "200ms",
		"-rss-clients", "20", "-rss-warmup", "50ms", "-rss-duration", "100ms", "-out", out}
	if err := run(context.Background(), args, nil, &stdout, &stderr); err != nil {
		t.Fatalf("ladder: %v\n%s", err, stderr.String())
	}

	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("read results: %v", err)
	}
	var report Report
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatalf("decode results: %v", err)
	}
	if len(report.Closed) != 7 {
		t.Errorf("closed-loop results = %d, want 7 (raw, three hit protocols, miss, proxy, direct)", len(report.Closed))
	}
	for _, r := range append(report.Closed, report.Fixed...) {
		if r.Calls == 0 || r.Errors != 0 || r.ServerAllocs <= 0 || r.PeakRSS == 0 {
			t.Errorf("%s %s: %d calls, %d errors (%s), %.1f allocs per call, peak RSS %d",
				r.Case, r.Mode, r.Calls, r.Errors, r.FirstError, r.ServerAllocs, r.PeakRSS)
		}
	}
	if len(report.Fixed) != 3 {
		t.Errorf("fixed-rate results = %d, want 3 (miss, proxy and direct)", len(report.Fixed))
	}
	if len(report.RSS) == 0 {
		t.Error("no resident-set results")
	}
	for _, want := range []string{"L2-hit/connect-proto", "fixed rate", "targets"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout.String())
		}
	}
}
