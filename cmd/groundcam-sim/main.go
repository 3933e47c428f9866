// Command groundcam-sim serves the simulated GroundCam API: the upstream's
// REST API under /v1 and the control API under /_sim/. It prints its base
// URL and the demo API keys at start and stops gracefully on SIGINT or
// SIGTERM.
//
// Flags, each with an environment variable that sets its default:
//
//	-addr            GROUNDCAM_SIM_ADDR            listen address (127.0.0.1:8081)
//	-seed            GROUNDCAM_SIM_SEED            fixture seed (1)
//	-rate-limit      GROUNDCAM_SIM_RATE_LIMIT      requests per key per window (600)
//	-rate-window     GROUNDCAM_SIM_RATE_WINDOW     rate-limit window (1m)
//	-sweep-interval  GROUNDCAM_SIM_SWEEP_INTERVAL  background expiry and reminder sweep (1s)
//	-log-level       GROUNDCAM_SIM_LOG_LEVEL       debug, info, warn or error (info)
//	-webhook-any-host GROUNDCAM_SIM_WEBHOOK_ANY_HOST deliver webhooks beyond loopback hosts (false)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/groundcam/groundcam-gateway/internal/cliflag"
	"github.com/groundcam/groundcam-gateway/simulator"
)

// shutdownTimeout bounds the graceful shutdown.
const shutdownTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// On -help the flag package has printed the usage already, and the
	// request succeeds.
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "groundcam-sim:", err)
		stop()
		os.Exit(1)
	}
}

// config is the command's validated configuration.
type config struct {
	addr          string
	seed          uint64
	rateLimit     int
	rateWindow    time.Duration
	sweepInterval time.Duration
	logLevel      slog.Level
	anyHost       bool
}

// parseConfig reads flags over environment defaults and reports every
// invalid value together. Usage and flag errors go to stderr, and -help
// returns [flag.ErrHelp].
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("groundcam-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envOr := func(name, fallback string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return fallback
	}
	addr := fs.String("addr", envOr("GROUNDCAM_SIM_ADDR", "127.0.0.1:8081"), "listen address, host:port")
	seed := fs.String("seed", envOr("GROUNDCAM_SIM_SEED", "1"), "fixture seed, an unsigned integer")
	limit := fs.String("rate-limit", envOr("GROUNDCAM_SIM_RATE_LIMIT", "600"),
		"requests each API key may send per window")
	window := fs.String("rate-window", envOr("GROUNDCAM_SIM_RATE_WINDOW", "1m"), "rate-limit window, such as 1m")
	sweep := fs.String("sweep-interval", envOr("GROUNDCAM_SIM_SWEEP_INTERVAL", "1s"),
		"interval of the background expiry and reminder sweep; 0 disables it")
	level := fs.String("log-level", envOr("GROUNDCAM_SIM_LOG_LEVEL", "info"), "debug, info, warn or error")
	anyHost := cliflag.NewBoolText(fs, "webhook-any-host", envOr("GROUNDCAM_SIM_WEBHOOK_ANY_HOST", "false"),
		"deliver webhooks to any host instead of only localhost and loopback IPs")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: groundcam-sim [flags]\n\n"+
			"Serves the simulated GroundCam API: the REST API under /v1 and the control API\n"+
			"under /_sim/. Each flag's default comes from the environment variable named\n"+
			"GROUNDCAM_SIM_ plus the flag name in upper case with underscores, such as\n"+
			"GROUNDCAM_SIM_RATE_LIMIT for -rate-limit.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}

	var cfg config
	var errs []error
	cfg.addr = *addr
	var err error
	if cfg.seed, err = strconv.ParseUint(*seed, 10, 64); err != nil {
		errs = append(errs, fmt.Errorf("invalid seed %q: use an unsigned integer", *seed))
	}
	if cfg.rateLimit, err = strconv.Atoi(*limit); err != nil || cfg.rateLimit < 1 {
		errs = append(errs, fmt.Errorf("invalid rate limit %q: use a positive integer", *limit))
	}
	if cfg.rateWindow, err = time.ParseDuration(*window); err != nil || cfg.rateWindow <= 0 {
		errs = append(errs, fmt.Errorf("invalid rate window %q: use a positive duration such as 1m", *window))
	}
	if cfg.sweepInterval, err = time.ParseDuration(*sweep); err != nil || cfg.sweepInterval < 0 {
		errs = append(errs, fmt.Errorf("invalid sweep interval %q: use a duration such as 1s, or 0", *sweep))
	}
	if cfg.anyHost, err = strconv.ParseBool(anyHost.String()); err != nil {
		errs = append(errs, fmt.Errorf("invalid webhook-any-host %q: use true or false", anyHost.String()))
	}
	if err := cfg.logLevel.UnmarshalText([]byte(*level)); err != nil {
		errs = append(errs, fmt.Errorf("invalid log level %q: use debug, info, warn or error", *level))
	}
	return cfg, errors.Join(errs...)
}

// run serves the simulator until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))

	opts := []simulator.Option{
		simulator.WithClock(simulator.NewOffsetClock()),
		simulator.WithLogger(logger),
		simulator.WithSeed(cfg.seed),
		simulator.WithRateLimit(cfg.rateLimit, cfg.rateWindow),
		simulator.WithSweepInterval(cfg.sweepInterval),
	}
	if cfg.anyHost {
		opts = append(opts, simulator.WithWebhookAnyHost())
	}
	sim, err := simulator.New(opts...)
	if err != nil {
		return fmt.Errorf("create simulator: %w", err)
	}
	defer sim.Close()

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	baseURL := "http://" + ln.Addr().String()
	printBanner(stdout, baseURL, sim.Keys())
	logger.Info("simulator started", "addr", ln.Addr().String(), "seed", cfg.seed,
		"rate_limit", cfg.rateLimit, "rate_window", cfg.rateWindow.String())

	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("simulator stopping")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	<-served
	logger.Info("simulator stopped")
	return nil
}

// printBanner writes the base URL and the demo keys.
func printBanner(w io.Writer, baseURL string, keys []simulator.DemoKey) {
	fmt.Fprintf(w, "groundcam-sim listening on %s\n", baseURL)
	fmt.Fprintf(w, "API: %s/v1  control: %s/_sim/\n\ndemo API keys:\n", baseURL, baseURL)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORGANIZATION\tORG ID\tKEY\tNOTE")
	for _, k := range keys {
		name := k.OrganizationName
		if name == "" {
			name = "(deleted)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, k.OrganizationID, k.Key, k.Note)
	}
	_ = tw.Flush()
}
