package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/groundcam/groundcam-gateway/bench"
)

// ladderConfig is the schedule of the "ladder" command.
type ladderConfig struct {
	rounds      int
	clients     int
	warmup      time.Duration
	duration    time.Duration
	rateWorkers int
	rateRounds  int
	rateTime    time.Duration
	rssClients  int
	rssWarmup   time.Duration
	rssTime     time.Duration
	cases       *regexp.Regexp
	out         string
}

func parseLadderConfig(args []string, stderr io.Writer) (ladderConfig, error) {
	fs := flag.NewFlagSet("loadgen ladder", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg ladderConfig
	fs.IntVar(&cfg.rounds, "rounds", 5, "closed-loop runs of each case, interleaved round by round")
	fs.IntVar(&cfg.clients, "clients", 16, "concurrent clients of the closed-loop runs")
	fs.DurationVar(&cfg.warmup, "warmup", 200*time.Millisecond, "unmeasured warm-up of each run")
	fs.DurationVar(&cfg.duration, "duration", time.Second, "measured time of each closed-loop run")
	fs.IntVar(&cfg.rateWorkers, "rate-workers", 64, "most concurrent calls of the fixed-rate runs")
	fs.IntVar(&cfg.rateRounds, "rate-rounds", 3, "fixed-rate runs of each uncached and direct case")
	fs.DurationVar(&cfg.rateTime, "rate-duration", 2*time.Second, "measured time of each fixed-rate run")
	fs.IntVar(&cfg.rssClients, "rss-clients", 1000, "concurrent clients of the resident-set run; 0 skips it")
	fs.DurationVar(&cfg.rssWarmup, "rss-warmup", time.Second, "unmeasured warm-up of the resident-set runs")
	fs.DurationVar(&cfg.rssTime, "rss-duration", 3*time.Second, "measured time of each resident-set run")
	casesPattern := fs.String("cases", "", "regular expression selecting cases by name, such as 'small/L[12]'")
	fs.StringVar(&cfg.out, "out", "", "file to write the results to as JSON")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}

	var errs []error
	if cfg.rounds < 1 || cfg.rateRounds < 1 {
		errs = append(errs, errors.New("-rounds and -rate-rounds must be at least 1"))
	}
	if cfg.clients < 1 || cfg.rateWorkers < 1 || cfg.rssClients < 0 {
		errs = append(errs, errors.New("-clients and -rate-workers must be at least 1, -rss-clients at least 0"))
	}
	if cfg.duration <= 0 || cfg.rateTime <= 0 || cfg.rssTime <= 0 || cfg.warmup < 0 || cfg.rssWarmup < 0 {
		errs = append(errs, errors.New("durations must be positive (the warm-up may be 0)"))
	}
	var err error
	if cfg.cases, err = regexp.Compile(*casesPattern); err != nil {
		errs = append(errs, fmt.Errorf("-cases: %w", err))
	}
	return cfg, errors.Join(errs...)
}

// Report is everything one ladder run measured, as written with -out.
type Report struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Machine  machine   `json:"machine"`
	// Closed holds the closed-loop results in ladder order.
	Closed []Result `json:"closed_loop"`
	// Fixed holds the fixed-rate results of the uncached and direct cases,
	// at half the uncached case's closed-loop throughput.
	Fixed []Result `json:"fixed_rate"`
	// RSS holds the runs of the cached rung with many clients, one per
	// size, for the server's resident set.
	RSS []Result `json:"rss,omitempty"`
}

// runLadder is the "ladder" command.
func runLadder(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseLadderConfig(args, stderr)
	if err != nil {
		return err
	}
	sizes, err := bench.Sizes()
	if err != nil {
		return err
	}
	report := &Report{Started: time.Now().UTC(), Machine: describeMachine()}

	stub, err := startChild(ctx, bench.RungDirect, "")
	if err != nil {
		return fmt.Errorf("start upstream stub: %w", err)
	}
	defer stub.stop()
	l := &ladderRun{cfg: cfg, upstream: stub.ready.URL, log: stderr, servers: make(map[bench.Rung]*child)}
	defer l.stopServers()

	if report.Closed, err = l.closedLoops(ctx, sizes); err != nil {
		return err
	}
	if report.Fixed, err = l.fixedRates(ctx, sizes, report.Closed); err != nil {
		return err
	}
	l.stopServers()
	if report.RSS, err = l.rssRun(ctx, sizes); err != nil {
		return err
	}
	report.Finished = time.Now().UTC()
	report.Machine.LoadAfter = loadAverage()

	if cfg.out != "" {
		if err := writeJSON(cfg.out, report); err != nil {
			return err
		}
	}
	printReport(stdout, report, nil)
	return nil
}

// ladderRun runs the ladder's schedule. Each rung has one server process
// for the whole schedule, so that runs of different cases can alternate
// quickly and a change in the machine's load spreads over all of them.
type ladderRun struct {
	cfg      ladderConfig
	upstream string
	log      io.Writer
	servers  map[bench.Rung]*child
}

// server returns the rung's server process, started on first use.
func (l *ladderRun) server(ctx context.Context, rung bench.Rung) (*child, error) {
	if srv, ok := l.servers[rung]; ok {
		return srv, nil
	}
	var upstreamURL string
	if rung.NeedsUpstream() {
		upstreamURL = l.upstream
	}
	srv, err := startChild(ctx, rung, upstreamURL)
	if err != nil {
		return nil, err
	}
	l.servers[rung] = srv
	return srv, nil
}

func (l *ladderRun) stopServers() {
	for rung, srv := range l.servers {
		srv.stop()
		delete(l.servers, rung)
	}
}

// target is a case ready to be measured again and again.
type target struct {
	c       bench.Case
	srv     *child
	clients *bench.Clients
	call    bench.Caller
	runs    []measurement
}

// newTargets prepares the cases with clients for conns concurrent calls
// each. The caller closes the clients' connections.
func (l *ladderRun) newTargets(ctx context.Context, cases []bench.Case, conns int) ([]*target, error) {
	targets := make([]*target, 0, len(cases))
	for _, c := range cases {
		srv, err := l.server(ctx, c.Rung)
		if err != nil {
			return targets, err
		}
		t := &target{c: c, srv: srv, clients: bench.NewClients(conns)}
		targets = append(targets, t)
		if t.call, err = newCheckedCaller(ctx, c, srv, t.clients); err != nil {
			return targets, err
		}
	}
	return targets, nil
}

func closeTargets(targets []*target) {
	for _, t := range targets {
		t.clients.CloseIdleConnections()
	}
}

// closedLoops runs every selected case cfg.rounds times, round by round.
func (l *ladderRun) closedLoops(ctx context.Context, sizes []*bench.Size) ([]Result, error) {
	var cases []bench.Case
	for _, c := range bench.Ladder(sizes) {
		if l.cfg.cases.MatchString(c.Name()) {
			cases = append(cases, c)
		}
	}
	targets, err := l.newTargets(ctx, cases, l.cfg.clients)
	defer closeTargets(targets)
	if err != nil {
		return nil, err
	}
	for round := range l.cfg.rounds {
		for _, t := range targets {
			s := spec{c: t.c, mode: modeClosed, clients: l.cfg.clients, warmup: l.cfg.warmup, duration: l.cfg.duration}
			m, err := measureOn(ctx, t.srv, s, t.call)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(l.log, "round %d/%d  %-32s %9.0f req/s\n", round+1, l.cfg.rounds, t.c.Name(), m.throughput())
			t.runs = append(t.runs, m)
		}
	}
	results := make([]Result, len(targets))
	for i, t := range targets {
		results[i] = aggregate(t.c, t.runs)
	}
	return results, nil
}

// fixedRates runs the uncached gateway, the proxy and the direct call of
// each size at half the uncached gateway's closed-loop throughput, taking
// turns.
func (l *ladderRun) fixedRates(ctx context.Context, sizes []*bench.Size, closed []Result) ([]Result, error) {
	var results []Result
	for _, size := range sizes {
		miss := findResult(closed, size.Name, bench.RungMiss)
		if miss == nil {
			continue
		}
		rate := miss.Throughput / 2
		pair := []bench.Case{
			{Rung: bench.RungMiss, Protocol: bench.ProtocolConnect, Size: size},
			{Rung: bench.RungProxy, Protocol: bench.ProtocolREST, Size: size},
			{Rung: bench.RungDirect, Protocol: bench.ProtocolREST, Size: size},
		}
		targets, err := l.newTargets(ctx, pair, l.cfg.rateWorkers)
		if err != nil {
			closeTargets(targets)
			return nil, err
		}
		for round := range l.cfg.rateRounds {
			for _, t := range targets {
				s := spec{c: t.c, mode: modeFixed, clients: l.cfg.rateWorkers, rate: rate,
					warmup: l.cfg.warmup, duration: l.cfg.rateTime}
				m, err := measureOn(ctx, t.srv, s, t.call)
				if err != nil {
					closeTargets(targets)
					return nil, err
				}
				p := percentiles(m.outcome.latencies)
				fmt.Fprintf(l.log, "rate %d/%d  %-32s %7.0f req/s  p50 %s  p99 %s\n",
					round+1, l.cfg.rateRounds, t.c.Name(), rate, micros(p.P50), micros(p.P99))
				t.runs = append(t.runs, m)
			}
		}
		closeTargets(targets)
		for _, t := range targets {
			results = append(results, aggregate(t.c, t.runs))
		}
	}
	return results, nil
}

// rssRun loads fresh server processes with cfg.rssClients clients and
// records their peak resident set. It runs the cached gateway over the
// Connect protocol on HTTP/1.1, with a connection per client, and over
// gRPC, whose streams share a few HTTP/2 connections, and once more under
// a soft memory limit (rssMemoryLimit). The raw and bare rungs run too, for
// reference.
func (l *ladderRun) rssRun(ctx context.Context, sizes []*bench.Size) ([]Result, error) {
	if l.cfg.rssClients == 0 {
		return nil, nil
	}
	small, large := sizes[0], sizes[len(sizes)-1]
	limit := []string{"GOMEMLIMIT=" + rssMemoryLimit}
	runs := []struct {
		c   bench.Case
		env []string
	}{
		{c: bench.Case{Rung: bench.RungRaw, Protocol: bench.ProtocolRaw, Size: large}},
		{c: bench.Case{Rung: bench.RungBare, Protocol: bench.ProtocolConnect, Size: large}},
		{c: bench.Case{Rung: bench.RungHit, Protocol: bench.ProtocolConnect, Size: small}},
		{c: bench.Case{Rung: bench.RungHit, Protocol: bench.ProtocolConnect, Size: large}},
		{c: bench.Case{Rung: bench.RungHit, Protocol: bench.ProtocolGRPC, Size: large}},
		{c: bench.Case{Rung: bench.RungHit, Protocol: bench.ProtocolConnect, Size: large}, env: limit},
	}
	var results []Result
	for _, run := range runs {
		c := run.c
		s := spec{c: c, mode: modeClosed, clients: l.cfg.rssClients, warmup: l.cfg.rssWarmup,
			duration: l.cfg.rssTime, env: run.env}
		m, err := measure(ctx, s, l.upstream)
		if err != nil {
			return nil, err
		}
		r := aggregate(c, []measurement{m})
		fmt.Fprintf(l.log, "rss       %-32s %9.0f req/s  %d clients %s peak RSS %.1f MiB\n",
			c.Name(), r.Throughput, l.cfg.rssClients, strings.Join(run.env, " "), mib(r.PeakRSS))
		results = append(results, r)
	}
	return results, nil
}

// rssMemoryLimit is the soft memory limit of the last resident-set run: a
// deployment setting that keeps the heap from doubling between
// collections while 1,000 connections hold buffers.
const rssMemoryLimit = "48MiB"

// findResult returns the result of a size's rung, or nil.
func findResult(results []Result, size string, rung bench.Rung) *Result {
	for i := range results {
		if results[i].Size == size && results[i].Rung == string(rung) {
			return &results[i]
		}
	}
	return nil
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}
