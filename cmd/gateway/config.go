package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/groundcam/groundcam-gateway/adapters/telemetry"
	"github.com/groundcam/groundcam-gateway/internal/cliflag"
)

// Environment variables the gateway reads. Each flag's default comes from
// its variable, so a flag given on the command line wins over the
// environment, and the environment over the built-in default.
const (
	envListenAddr       = "GATEWAY_LISTEN_ADDR"
	envAdminAddr        = "GATEWAY_ADMIN_ADDR"
	envUpstreamURL      = "GROUNDCAM_UPSTREAM_URL"
	envAPIKey           = "GROUNDCAM_API_KEY" // environment only, never a flag
	envRedisURL         = "GATEWAY_REDIS_URL"
	envDrainDelay       = "GATEWAY_DRAIN_DELAY"
	envShutdownTimeout  = "GATEWAY_SHUTDOWN_TIMEOUT"
	envUpstreamTimeout  = "GATEWAY_UPSTREAM_TIMEOUT"
	envLogLevel         = "GATEWAY_LOG_LEVEL"
	envTrustTraceparent = "GATEWAY_TRUST_TRACEPARENT"
)

// config is the gateway's validated configuration.
type config struct {
	// listenAddr serves Connect, gRPC, gRPC-Web and REST.
	listenAddr string
	// adminAddr serves /metrics.
	adminAddr string
	// upstreamURL is the GroundCam API base URL; "" runs the embedded
	// simulator.
	upstreamURL string
	// apiKey is the default key of calls that carry none. Never log it.
	apiKey string
	// redisURL is the shared response cache's Redis URL, checked with
	// redis.ParseURL; "" when unset. It may carry a password, so never log
	// it.
	redisURL string
	// drainDelay is how long the gateway keeps serving, reporting
	// NOT_SERVING, after a stop signal.
	drainDelay time.Duration
	// shutdownTimeout bounds the wait for in-flight calls after the
	// listener closes.
	shutdownTimeout time.Duration
	// upstreamTimeout bounds an upstream call whose caller set no deadline.
	upstreamTimeout time.Duration
	logLevel        slog.Level
	// trustTraceparent continues the caller's trace; false starts a new
	// trace linked to it, for callers that are not trusted.
	trustTraceparent bool
	// showVersion prints the version and exits.
	showVersion bool
}

// loadConfig reads the flags in args over the environment and reports
// every invalid value together in one error. Usage and flag errors go to
// stderr.
func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envOr := func(name, fallback string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return fallback
	}
	listen := fs.String("listen", envOr(envListenAddr, "127.0.0.1:8080"),
		"address of the API port (Connect, gRPC, gRPC-Web, REST), host:port; env "+envListenAddr)
	admin := fs.String("admin-listen", envOr(envAdminAddr, "127.0.0.1:9090"),
		"address of the admin port that serves /metrics, host:port; env "+envAdminAddr)
	upstreamURL := fs.String("upstream-url", getenv(envUpstreamURL),
		"GroundCam API base URL, such as https://api.groundcam.io/v1; empty runs the embedded simulator; env "+
			envUpstreamURL)
	redisURL := fs.String("redis-url", getenv(envRedisURL),
		"Redis URL of the shared response cache, such as redis://:password@redis:6379/0; env "+envRedisURL)
	drain := fs.String("drain-delay", envOr(envDrainDelay, "5s"),
		"time to keep serving after SIGTERM while health reports NOT_SERVING, such as 5s; 0 skips it; env "+
			envDrainDelay)
	shutdown := fs.String("shutdown-timeout", envOr(envShutdownTimeout, "20s"),
		"maximum wait for in-flight calls once the listener is closed, such as 20s; env "+envShutdownTimeout)
	upstreamTimeout := fs.String("upstream-timeout", envOr(envUpstreamTimeout, "15s"),
		"maximum time of an upstream call when the caller sets no deadline, such as 15s; env "+envUpstreamTimeout)
	level := fs.String("log-level", envOr(envLogLevel, "info"),
		"log level: debug, info, warn or error; env "+envLogLevel)
	trust := cliflag.NewBoolText(fs, "trust-traceparent", envOr(envTrustTraceparent, "true"),
		"continue the caller's W3C trace (true) or start a new trace linked to it (false); env "+envTrustTraceparent)
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: gateway [flags]\n\n"+
			"Serves the GroundCam API over Connect, gRPC, gRPC-Web and REST. The API key of calls\n"+
			"without an Authorization header comes from %s (environment only).\n\nFlags:\n", envAPIKey)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q: the gateway takes flags only; see -help", fs.Arg(0))
	}

	cfg := config{
		listenAddr:  *listen,
		adminAddr:   *admin,
		upstreamURL: strings.TrimSpace(*upstreamURL),
		apiKey:      getenv(envAPIKey),
		showVersion: *showVersion,
	}
	var errs []error
	collect := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	collect(checkAddr(source("listen", envListenAddr), cfg.listenAddr))
	collect(checkAddr(source("admin-listen", envAdminAddr), cfg.adminAddr))
	collect(checkUpstreamURL(cfg.upstreamURL))
	collect(checkAPIKey(cfg.apiKey))
	cfg.redisURL = *redisURL
	collect(checkRedisURL(cfg.redisURL))
	var err error
	cfg.drainDelay, err = parseDuration(source("drain-delay", envDrainDelay), *drain, true)
	collect(err)
	cfg.shutdownTimeout, err = parseDuration(source("shutdown-timeout", envShutdownTimeout), *shutdown, false)
	collect(err)
	cfg.upstreamTimeout, err = parseDuration(source("upstream-timeout", envUpstreamTimeout), *upstreamTimeout, false)
	collect(err)
	if cfg.logLevel, err = telemetry.ParseLevel(*level); err != nil {
		collect(fmt.Errorf("%s: %w", source("log-level", envLogLevel), err))
	}
	if cfg.trustTraceparent, err = strconv.ParseBool(trust.String()); err != nil {
		collect(fmt.Errorf("invalid %s %q: use true or false", source("trust-traceparent", envTrustTraceparent),
			trust.String()))
	}
	if len(errs) > 0 {
		return config{}, fmt.Errorf("invalid configuration:\n%w", errors.Join(errs...))
	}
	return cfg, nil
}

// source names a setting by its flag and its environment variable, such
// as "-listen/GATEWAY_LISTEN_ADDR", for errors: the value may come from
// either.
func source(flagName, env string) string {
	return "-" + flagName + "/" + env
}

// checkAddr requires a host:port address with a numeric port.
func checkAddr(setting, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid %s %q: use host:port, such as 127.0.0.1:8080 or :8080", setting, addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("invalid %s %q: the port must be a number from 0 to 65535", setting, addr)
	}
	return nil
}

// checkUpstreamURL requires an absolute http or https URL, or nothing.
func checkUpstreamURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("invalid %s %q: use an absolute http or https URL such as "+
			"https://api.groundcam.io/v1, or leave it empty to run the embedded simulator", source("upstream-url", envUpstreamURL), raw)
	}
	if u.User != nil {
		return fmt.Errorf("invalid %s: it must not carry credentials; set the key in %s",
			source("upstream-url", envUpstreamURL), envAPIKey)
	}
	return nil
}

// checkAPIKey requires a key that can travel in an Authorization header.
// The message never shows the key.
func checkAPIKey(key string) error {
	for _, r := range key {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("invalid %s: the key contains a space or a control character; "+
				"set the key alone, without \"Bearer \" or a trailing newline", envAPIKey)
		}
	}
	return nil
}

// checkRedisURL requires a URL that go-redis can parse, or nothing. The
// message never shows the URL, which may carry a password.
func checkRedisURL(raw string) error {
	if raw == "" {
		return nil
	}
	if _, err := redis.ParseURL(raw); err != nil {
		return fmt.Errorf("invalid %s: use redis://[:password@]host:port[/db], rediss:// for TLS "+
			"or unix:///path/to/socket (the value is not shown because it may hold a password)", source("redis-url", envRedisURL))
	}
	return nil
}

// parseDuration parses a Go duration such as 5s. Zero is allowed only when
// zeroOK is set; negative values never are.
func parseDuration(setting, raw string, zeroOK bool) (time.Duration, error) {
	d, err := time.ParseDuration(raw)
	switch {
	case err != nil:
		return 0, fmt.Errorf("invalid %s %q: use a Go duration such as 5s or 1m30s", setting, raw)
	case d < 0 || d == 0 && !zeroOK:
		want := "positive"
		if zeroOK {
			want = "zero or positive"
		}
		return 0, fmt.Errorf("invalid %s %q: use a %s duration such as 5s", setting, raw, want)
	}
	return d, nil
}
