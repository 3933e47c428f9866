package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/groundcam/groundcam-gateway/bench"
)

// runOne is the "run" command: one case, closed-loop or at a fixed rate,
// printed as JSON.
func runOne(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("case", "small/L2-hit/connect-proto", "case to run, as size/rung/protocol")
	mode := fs.String("mode", modeClosed, "closed (clients call back to back) or fixed-rate")
	clients := fs.Int("clients", 16, "concurrent clients (closed) or most concurrent calls (fixed-rate)")
	rate := fs.Float64("rate", 1000, "calls per second of a fixed-rate run")
	warmup := fs.Duration("warmup", 500*time.Millisecond, "unmeasured warm-up")
	duration := fs.Duration("duration", 5*time.Second, "measured time, at most 10m")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var errs []error
	if *mode != modeClosed && *mode != modeFixed {
		errs = append(errs, fmt.Errorf("-mode %q: use %s or %s", *mode, modeClosed, modeFixed))
	}
	if *clients < 1 || *rate <= 0 {
		errs = append(errs, errors.New("-clients must be at least 1 and -rate positive"))
	}
	if *duration <= 0 || *duration > 10*time.Minute || *warmup < 0 {
		errs = append(errs, errors.New("-duration must be between 0 and 10m, -warmup not negative"))
	}
	sizes, err := bench.Sizes()
	if err != nil {
		return err
	}
	c, err := bench.FindCase(sizes, *name)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	var upstreamURL string
	if c.Rung.NeedsUpstream() {
		stub, err := startChild(ctx, bench.RungDirect, "")
		if err != nil {
			return fmt.Errorf("start upstream stub: %w", err)
		}
		defer stub.stop()
		upstreamURL = stub.ready.URL
	}
	s := spec{c: c, mode: *mode, clients: *clients, warmup: *warmup, duration: *duration}
	if s.mode == modeFixed {
		s.rate = *rate
	}
	m, err := measure(ctx, s, upstreamURL)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(aggregate(c, []measurement{m}))
}

// readReport reads the JSON that loadgen ladder -out wrote.
func readReport(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read ladder results: %w", err)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decode ladder results %s: %w", path, err)
	}
	return &r, nil
}
