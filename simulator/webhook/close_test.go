package webhook_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"github.com/groundcam/groundcam-gateway/simulator/webhook"
)

// TestCloseLeavesNoGoroutines is not parallel, so that goleak checks only
// the goroutines of this test.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	clock := clockwork.NewFakeClockAt(start)
	failing := newReceiver(t, http.StatusInternalServerError)
	hanging := newHangingReceiver(t)
	// One client trusts both servers' certificates: httptest TLS servers
	// share one certificate.
	d := webhook.New(webhook.WithClock(clock), webhook.WithHTTPClient(failing.srv.Client()),
		webhook.WithIDs(sequentialIDs()))

	d.Send(failing.target("wh1"), "session.created", nil) // d001: retry pending
	d.Wait()
	d.Send(hanging.target("wh2"), "session.created", nil) // d002: attempt in flight
	hanging.awaitRequest(t)
	testDone := make(chan webhook.TestResult)
	go func() { testDone <- d.Test(context.Background(), hanging.target("wh3"), nil) }() // d003
	hanging.awaitRequest(t)

	d.Close()
	d.Close() // idempotent
	res := <-testDone

	if got := only(t, d, "wh1"); got.Status != webhook.StatusExhausted || got.NextAttemptAt != nil ||
		got.LastError == nil || *got.LastError != "HTTP 500" {
		t.Errorf("pending delivery after Close = %s after %d attempts, lastError %v; want exhausted keeping HTTP 500", got.Status, got.Attempts, deref(got.LastError))
	}
	if got := only(t, d, "wh2"); got.Status != webhook.StatusExhausted || got.Attempts != 1 {
		t.Errorf("in-flight delivery after Close = %+v, want exhausted after 1 attempt", got)
	}
	if res.Success || res.Error == nil {
		t.Errorf("Test interrupted by Close = %+v, want a failure with an error", res)
	}

	after := d.Send(failing.target("wh1"), "session.created", nil)
	if after.Status != webhook.StatusExhausted || after.Attempts != 0 {
		t.Errorf("Send after Close = %+v, want exhausted without attempts", after)
	}
	clock.Advance(time.Hour)
	d.Wait()
	if n := len(failing.got()); n != 1 {
		t.Errorf("failing receiver got %d requests, want 1", n)
	}

	// The servers are closed here, not in cleanup, which runs after goleak's check.
	hanging.unblock()
	failing.srv.Close()
	hanging.srv.Close()
}
