//go:build unix

package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/gen/groundcam/v1/groundcamv1connect"
	"github.com/groundcam/groundcam-gateway/simulator"
)

// TestRunSecondSignalCutsDrain sends real signals to the test process
// through notifyStop, as main does. It is not parallel, because the signals
// reach the whole process and goleak must see only this test's goroutines.
func TestRunSecondSignalCutsDrain(t *testing.T) {
	tests := []struct {
		name string
		// endDrainDelay lets the drain delay pass before the second signal,
		// so that the signal arrives while run waits for the in-flight call.
		endDrainDelay bool
	}{
		{"during drain delay", false},
		{"during in-flight wait", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			testSecondSignal(t, tc.endDrainDelay)
		})
	}
}

func testSecondSignal(t *testing.T, endDrainDelay bool) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	sim, err := simulator.New()
	if err != nil {
		t.Fatalf("simulator.New: %v", err)
	}
	upstream := &gatedUpstream{
		sim: sim, path: "/v1/credits", arrived: make(chan struct{}, 1), release: make(chan struct{}),
	}
	ts := httptest.NewServer(upstream)

	// Only the second signal can end these waits, because the fake clock
	// reaches the drain delay only when the test advances it, and the held
	// call outlasts an hour-long shutdown timeout.
	cfg := testConfig(ts.URL+"/v1", sim.Keys()[0].Key)
	cfg.drainDelay, cfg.shutdownTimeout = time.Hour, time.Hour
	clock := clockwork.NewFakeClock()
	drainCtx, forceStop, stopSignals := notifyStop(context.Background())
	defer stopSignals()
	g := startRun(t, drainCtx, cfg, clock, func(o *runOptions) { o.forceStop = forceStop })

	client := &http.Client{Transport: &http.Transport{}}
	heldCallErr := make(chan error, 1)
	go func() {
		_, err := groundcamv1connect.NewCreditServiceClient(client, "http://"+g.api.String()).
			GetCredits(context.Background(), connect.NewRequest(&groundcamv1.GetCreditsRequest{}))
		heldCallErr <- err
	}()
	<-upstream.arrived

	sendSignal(t, syscall.SIGTERM)
	waitCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := clock.BlockUntilContext(waitCtx, 1); err != nil {
		t.Fatalf("run never waited for the drain delay: %v\n%s", err, g.logs)
	}
	if endDrainDelay {
		clock.Advance(cfg.drainDelay)
		<-g.listenerClosed
	}
	sendSignal(t, syscall.SIGINT)

	// run returns while the upstream still holds the call. main logs its
	// error as the one line that reports the forced stop.
	err = g.wait(t)
	if !errors.Is(err, errSecondSignal) {
		t.Errorf("run = %v, want an error wrapping %v", err, errSecondSignal)
	}
	if err != nil && !strings.Contains(err.Error(), "drain cut short") {
		t.Errorf("run error %q does not say that the drain was cut short", err)
	}
	if err := <-heldCallErr; err == nil {
		t.Error("the held call succeeded, want it to fail when its connection closed")
	}
	if logs := g.logs.String(); strings.Contains(logs, "shutdown timeout;") {
		t.Errorf("logs blame the shutdown timeout for a forced stop:\n%s", logs)
	}

	// Deferred goleak.VerifyNone runs before t.Cleanup, so close everything now.
	close(upstream.release)
	ts.Close()
	sim.Close()
	client.CloseIdleConnections()
}

// sendSignal sends sig to the test process.
func sendSignal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), sig); err != nil {
		t.Fatalf("send %v: %v", sig, err)
	}
}
