package simulator

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// realClockOnly is a real clock without Advance.
type realClockOnly struct{ clockwork.Clock }

func (realClockOnly) Now() time.Time { return time.Now() }

func (realClockOnly) NewTimer(d time.Duration) clockwork.Timer {
	return clockwork.NewRealClock().NewTimer(d)
}

func (realClockOnly) AfterFunc(d time.Duration, f func()) clockwork.Timer {
	return clockwork.NewRealClock().AfterFunc(d, f)
}

// newTestServer serves h on a real socket until the test ends.
func newTestServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestOffsetClockAdvanceFiresTimers(t *testing.T) {
	t.Parallel()
	c := NewOffsetClock()
	start := c.Now()
	fired := make(chan struct{})
	c.AfterFunc(time.Hour, func() { close(fired) })
	timer := c.NewTimer(time.Hour)
	defer timer.Stop()
	later := c.NewTimer(3 * time.Hour)
	defer later.Stop()

	c.Advance(2 * time.Hour)
	if got := c.Since(start); got < 2*time.Hour {
		t.Errorf("Since %v, want at least 2h", got)
	}
	select {
	case <-fired:
	case <-time.After(10 * time.Second):
		t.Fatal("AfterFunc did not fire after the advance passed it")
	}
	select {
	case <-timer.Chan():
	case <-time.After(10 * time.Second):
		t.Fatal("timer did not fire after the advance passed it")
	}
	select {
	case <-later.Chan():
		t.Error("a timer beyond the advance fired")
	default:
	}
	if !later.Stop() {
		t.Error("Stop of a pending timer returned false")
	}
}

func TestOffsetClockResetAndSleep(t *testing.T) {
	t.Parallel()
	c := NewOffsetClock()
	timer := c.NewTimer(time.Hour)
	if !timer.Reset(2 * time.Hour) {
		t.Error("Reset of a pending timer returned false")
	}
	after := c.After(time.Hour)
	c.Sleep(time.Millisecond)
	c.Advance(3 * time.Hour)
	select {
	case <-after:
	case <-time.After(10 * time.Second):
		t.Fatal("After did not fire")
	}
	select {
	case <-timer.Chan():
	case <-time.After(10 * time.Second):
		t.Fatal("reset timer did not fire")
	}
	if c.Until(c.Now().Add(time.Minute)) <= 0 {
		t.Error("Until of a later time is not positive")
	}
	ticker := c.NewTicker(time.Millisecond)
	<-ticker.Chan()
	ticker.Stop()
}

func TestBackgroundSweep(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, http.StatusOK)
	expired := make(chan struct{}, 1)
	rc.onEvent = func(event string) {
		if event == "session.expired" {
			select {
			case expired <- struct{}{}:
			default:
			}
		}
	}
	h := newHarness(t, WithWebhookClient(rc.srv.Client()), WithSweepInterval(time.Second))
	h.subscribe(rc, "", "session.expired")
	h.createSession(map[string]any{"ttlMinutes": 5})

	// Only the background sweep runs: no request follows the advance.
	h.clock.Advance(5 * time.Minute)
	select {
	case <-expired:
	case <-time.After(10 * time.Second):
		t.Fatal("no session.expired without a request; the background sweep did not run")
	}
}
