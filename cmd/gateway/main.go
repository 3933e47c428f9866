// Command gateway serves the GroundCam API as Connect, gRPC, gRPC-Web and
// REST on one port, forwarding every call to the GroundCam REST API, or to
// an embedded simulator when no upstream URL is set. Run it with -help for
// its flags; each flag also reads an environment variable (see config.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/groundcam/groundcam-gateway/adapters/telemetry"
)

// version is the gateway's version, set at build time with
// -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := loadConfig(os.Args[1:], os.Getenv, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return
	case err != nil:
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(2)
	}
	if cfg.showVersion {
		fmt.Println(version)
		return
	}

	logger := telemetry.NewLogger(os.Stderr, cfg.logLevel)
	if err := run(ctx, cfg, runOptions{logger: logger, stdout: os.Stdout}); err != nil {
		logger.Error("gateway failed", "error", err)
		stop()
		os.Exit(1)
	}
}
