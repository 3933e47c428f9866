// Command loadgen measures the gateway's cost on loopback as ratios
// within one run, so that runs on different or busy machines compare. It
// serves each rung of the ladder (see package bench) in a server process
// of its own, which it starts and stops, and loads it from this process.
// Every server listens on 127.0.0.1 and every run is bounded in time.
//
// Commands:
//
//	loadgen ladder [flags]   run every case closed-loop, the uncached gateway and
//	                         the direct call at a fixed rate, and the cached
//	                         gateway with 1,000 clients; print the tables
//	loadgen run [flags]      run one case closed-loop or at a fixed rate
//	loadgen report -load FILE [-bench FILE]
//	                         print the tables of a ladder's JSON results, with
//	                         the go test -bench output of ./bench/ when given
//	loadgen serve -rung R    serve one rung (started by the commands above)
//
// Run "loadgen COMMAND -help" for a command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		stop()
		os.Exit(1)
	}
}

const usage = `usage: loadgen ladder|run|report|serve [flags]
run "loadgen COMMAND -help" for a command's flags`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("missing command")
	}
	switch args[0] {
	case "ladder":
		return runLadder(ctx, args[1:], stdout, stderr)
	case "run":
		return runOne(ctx, args[1:], stdout, stderr)
	case "report":
		return runReport(args[1:], stdout, stderr)
	case "serve":
		return runServe(ctx, args[1:], stdin, stdout)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// runReport is the "report" command.
func runReport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	loadPath := fs.String("load", "", "JSON results of loadgen ladder -out")
	benchPath := fs.String("bench", "", "text output of go test -bench ./bench/ (optional)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *loadPath == "" {
		return errors.New("report: -load is required: pass the file written by loadgen ladder -out")
	}
	report, err := readReport(*loadPath)
	if err != nil {
		return err
	}
	var gb *goBench
	if *benchPath != "" {
		if gb, err = readGoBench(*benchPath); err != nil {
			return err
		}
	}
	printReport(stdout, report, gb)
	return nil
}
