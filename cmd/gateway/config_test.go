package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// env returns a getenv over the given variables.
func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	want := config{
		listenAddr: "127.0.0.1:8080", adminAddr: "127.0.0.1:9090",
		drainDelay: 5 * time.Second, shutdownTimeout: 20 * time.Second, upstreamTimeout: 15 * time.Second,
		logLevel: slog.LevelInfo, trustTraceparent: true,
	}
	if cfg != want {
		t.Errorf("config = %+v\nwant     %+v", cfg, want)
	}
}

func TestLoadConfigSources(t *testing.T) {
	t.Parallel()
	vars := map[string]string{
		envListenAddr:       "0.0.0.0:8080",
		envAdminAddr:        ":9191",
		envUpstreamURL:      "https://api.groundcam.io/v1",
		envAPIKey:           "gc_live_abc",
		envRedisURL:         "redis://:s3cret@redis:6379/2",
		envDrainDelay:       "0",
		envShutdownTimeout:  "30s",
		envUpstreamTimeout:  "2s",
		envLogLevel:         "DEBUG",
		envTrustTraceparent: "false",
	}
	cfg, err := loadConfig(nil, env(vars), io.Discard)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if cfg.listenAddr != "0.0.0.0:8080" || cfg.adminAddr != ":9191" || cfg.upstreamURL != "https://api.groundcam.io/v1" {
		t.Errorf("addresses = %s, %s, %s", cfg.listenAddr, cfg.adminAddr, cfg.upstreamURL)
	}
	if cfg.apiKey != "gc_live_abc" {
		t.Error("API key not read from the environment")
	}
	if cfg.redisURL != "redis://:s3cret@redis:6379/2" {
		t.Error("Redis URL not read from the environment")
	}
	if cfg.drainDelay != 0 || cfg.shutdownTimeout != 30*time.Second || cfg.upstreamTimeout != 2*time.Second {
		t.Errorf("durations = %v, %v, %v", cfg.drainDelay, cfg.shutdownTimeout, cfg.upstreamTimeout)
	}
	if cfg.logLevel != slog.LevelDebug || cfg.trustTraceparent {
		t.Errorf("log level %v, trust %v, want debug and false", cfg.logLevel, cfg.trustTraceparent)
	}

	// Flags win over the environment.
	cfg, err = loadConfig([]string{"-listen", "127.0.0.1:7000", "-upstream-url", "", "-log-level", "warn"},
		env(vars), io.Discard)
	if err != nil {
		t.Fatalf("loadConfig with flags: %v", err)
	}
	if cfg.listenAddr != "127.0.0.1:7000" || cfg.upstreamURL != "" || cfg.logLevel != slog.LevelWarn {
		t.Errorf("flags not applied: listen %s, upstream %q, level %v", cfg.listenAddr, cfg.upstreamURL, cfg.logLevel)
	}
}

func TestLoadConfigReportsEveryProblem(t *testing.T) {
	t.Parallel()
	vars := map[string]string{
		envListenAddr:       "8080",
		envAdminAddr:        "127.0.0.1:http",
		envUpstreamURL:      "api.groundcam.io",
		envAPIKey:           "Bearer gc_live_topsecret",
		envRedisURL:         "mysql://user:hunter2@db",
		envDrainDelay:       "-1s",
		envShutdownTimeout:  "0s",
		envUpstreamTimeout:  "soon",
		envLogLevel:         "verbose",
		envTrustTraceparent: "maybe",
	}
	_, err := loadConfig(nil, env(vars), io.Discard)
	if err == nil {
		t.Fatal("loadConfig accepted an invalid configuration")
	}
	msg := err.Error()
	for _, name := range []string{
		envListenAddr, envAdminAddr, envUpstreamURL, envAPIKey, envRedisURL, envDrainDelay,
		envShutdownTimeout, envUpstreamTimeout, envLogLevel, envTrustTraceparent,
	} {
		if !strings.Contains(msg, name) {
			t.Errorf("error does not name %s:\n%s", name, msg)
		}
	}
	for _, secret := range []string{"topsecret", "hunter2"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error shows the secret %q:\n%s", secret, msg)
		}
	}
}

func TestLoadConfigValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		vars    map[string]string
		wantErr string
	}{
		{"zero drain delay", map[string]string{envDrainDelay: "0s"}, ""},
		{"http upstream", map[string]string{envUpstreamURL: "http://127.0.0.1:8081/v1"}, ""},
		{"upstream with credentials", map[string]string{envUpstreamURL: "https://u:p@api.groundcam.io"}, "credentials"},
		{"upstream without scheme", map[string]string{envUpstreamURL: "api.groundcam.io/v1"}, envUpstreamURL},
		{"ftp upstream", map[string]string{envUpstreamURL: "ftp://api.groundcam.io"}, envUpstreamURL},
		{"rediss URL", map[string]string{envRedisURL: "rediss://cache.internal:6380/0"}, ""},
		{"unix socket", map[string]string{envRedisURL: "unix:///run/redis.sock"}, ""},
		{"key with newline", map[string]string{envAPIKey: "gc_live_abc\n"}, envAPIKey},
		{"port out of range", map[string]string{envListenAddr: "127.0.0.1:70000"}, envListenAddr},
		{"warning level", map[string]string{envLogLevel: "warning"}, ""},
		{"zero upstream timeout", map[string]string{envUpstreamTimeout: "0"}, envUpstreamTimeout},
		{"trust traceparent 0", map[string]string{envTrustTraceparent: "0"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadConfig(nil, env(tc.vars), io.Discard)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("loadConfig: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("loadConfig error = %v, want one naming %s", err, tc.wantErr)
			}
		})
	}
}

func TestLoadConfigFlags(t *testing.T) {
	t.Parallel()
	var usage strings.Builder
	_, err := loadConfig([]string{"-help"}, env(nil), &usage)
	if !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-help error = %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(usage.String(), envAPIKey) || !strings.Contains(usage.String(), "-upstream-url") {
		t.Errorf("usage does not describe the settings:\n%s", usage.String())
	}
	if strings.Contains(usage.String(), "-api-key") {
		t.Error("the API key must not be a flag")
	}
	if _, err := loadConfig([]string{"-api-key", "x"}, env(nil), io.Discard); err == nil {
		t.Error("loadConfig accepted an -api-key flag")
	}
	if _, err := loadConfig([]string{"serve"}, env(nil), io.Discard); err == nil {
		t.Error("loadConfig accepted a positional argument")
	}
	cfg, err := loadConfig([]string{"-version"}, env(nil), io.Discard)
	if err != nil || !cfg.showVersion {
		t.Errorf("-version gave %+v, %v", cfg, err)
	}
}

func TestLoadConfigTrustTraceparentFlag(t *testing.T) {
	t.Parallel()
	vars := map[string]string{envTrustTraceparent: "false"}
	tests := []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"-trust-traceparent"}, true},
		{[]string{"-trust-traceparent=false"}, false},
		{[]string{"-trust-traceparent=true"}, true},
	}
	for _, tc := range tests {
		cfg, err := loadConfig(tc.args, env(vars), io.Discard)
		if err != nil {
			t.Fatalf("loadConfig(%q): %v", tc.args, err)
		}
		if cfg.trustTraceparent != tc.want {
			t.Errorf("loadConfig(%q): trust traceparent %v, want %v", tc.args, cfg.trustTraceparent, tc.want)
		}
	}
}
