package simulator

import (
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// OffsetClock is the real time plus an offset that [OffsetClock.Advance]
// grows, for a simulator that runs in real time but lets tests jump ahead.
// Its timers fire at their time on this clock: an advance fires the ones
// it passes at once. Tickers tick at real intervals. It is safe for
// concurrent use.
type OffsetClock struct {
	mu     sync.Mutex
	offset time.Duration
	timers map[*offsetTimer]struct{}
}

var (
	_ clockwork.Clock = (*OffsetClock)(nil)
	_ advancer        = (*OffsetClock)(nil)
)

// NewOffsetClock returns a clock that starts at the real time.
func NewOffsetClock() *OffsetClock {
	return &OffsetClock{timers: map[*offsetTimer]struct{}{}}
}

// Now returns the real time plus the offset.
func (c *OffsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Since returns the time elapsed since t on this clock.
func (c *OffsetClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Until returns the time until t on this clock.
func (c *OffsetClock) Until(t time.Time) time.Duration { return t.Sub(c.Now()) }

// Advance moves the clock forward by d and fires the timers it passes.
func (c *OffsetClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
	now := time.Now().Add(c.offset)
	for t := range c.timers {
		// Stop reports false when the timer already fired; only a pending
		// timer is re-armed for its new remaining time.
		if t.real.Stop() {
			t.real.Reset(max(t.deadline.Sub(now), 0))
		} else {
			delete(c.timers, t)
		}
	}
}

// Sleep blocks for d on this clock, ending early when an advance passes it.
func (c *OffsetClock) Sleep(d time.Duration) {
	t := c.NewTimer(d)
	<-t.Chan()
	t.Stop()
}

// After returns a channel that receives the time after d on this clock.
func (c *OffsetClock) After(d time.Duration) <-chan time.Time { return c.NewTimer(d).Chan() }

// NewTimer returns a timer that fires after d on this clock.
func (c *OffsetClock) NewTimer(d time.Duration) clockwork.Timer {
	return c.newTimer(d, nil)
}

// AfterFunc runs f in its own goroutine after d on this clock.
func (c *OffsetClock) AfterFunc(d time.Duration, f func()) clockwork.Timer {
	return c.newTimer(d, f)
}

// NewTicker returns a ticker at real intervals of d.
func (c *OffsetClock) NewTicker(d time.Duration) clockwork.Ticker {
	return offsetTicker{time.NewTicker(d)}
}

// newTimer starts a channel timer, or a function timer when f is not nil.
func (c *OffsetClock) newTimer(d time.Duration, f func()) *offsetTimer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &offsetTimer{clock: c, deadline: time.Now().Add(c.offset + d)}
	if f == nil {
		t.real = time.NewTimer(d)
	} else {
		t.real = time.AfterFunc(d, func() {
			t.forget()
			f()
		})
	}
	c.timers[t] = struct{}{}
	return t
}

// offsetTimer is a timer of an [OffsetClock].
type offsetTimer struct {
	clock    *OffsetClock
	real     *time.Timer
	deadline time.Time // on the offset clock
}

// Chan returns the timer's channel; it is nil for function timers.
func (t *offsetTimer) Chan() <-chan time.Time { return t.real.C }

// Reset re-arms the timer to fire after d on the clock.
func (t *offsetTimer) Reset(d time.Duration) bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	t.deadline = time.Now().Add(t.clock.offset + d)
	t.clock.timers[t] = struct{}{}
	return t.real.Reset(d)
}

// Stop stops the timer and reports whether it was pending.
func (t *offsetTimer) Stop() bool {
	t.forget()
	return t.real.Stop()
}

// forget removes the timer from the clock's set.
func (t *offsetTimer) forget() {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	delete(t.clock.timers, t)
}

// offsetTicker adapts a time.Ticker to clockwork.Ticker.
type offsetTicker struct{ *time.Ticker }

// Chan returns the ticker's channel.
func (t offsetTicker) Chan() <-chan time.Time { return t.C }
