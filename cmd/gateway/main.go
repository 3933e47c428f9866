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
	ctx, forceStop, stop := notifyStop(context.Background())
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
	opts := runOptions{logger: logger, stdout: os.Stdout, forceStop: forceStop}
	if err := run(ctx, cfg, opts); err != nil {
		logger.Error("gateway failed", "error", err)
		stop()
		os.Exit(1)
	}
}

// errSecondSignal is the cause of the force-stop context of [notifyStop]
// when a second SIGINT or SIGTERM arrives.
var errSecondSignal = errors.New("second stop signal received")

// notifyStop relays SIGINT and SIGTERM to two contexts derived from parent.
// The first signal ends drain, which starts the graceful drain. The second
// ends force, with a cause that wraps [errSecondSignal], so that run cuts
// the drain short. After the second signal the signals get their default
// action again, so a third one terminates the process at once. stop ends
// both contexts and stops the relay.
func notifyStop(parent context.Context) (drain, force context.Context, stop func()) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	drain, cancelDrain := context.WithCancelCause(parent)
	force, cancelForce := context.WithCancelCause(parent)

	go func() {
		defer signal.Stop(signals)
		select {
		case sig := <-signals:
			cancelDrain(fmt.Errorf("%v signal received", sig))
		case <-force.Done():
			return
		}
		select {
		case sig := <-signals:
			cancelForce(fmt.Errorf("%w: %v", errSecondSignal, sig))
		case <-force.Done():
		}
	}()

	stop = func() {
		signal.Stop(signals)
		cancelForce(nil)
		cancelDrain(nil)
	}
	return drain, force, stop
}
