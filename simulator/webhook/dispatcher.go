// Package webhook is the simulator's webhook delivery engine: it signs and
// posts event envelopes to registered endpoints, retries failed deliveries on
// the contract's schedule, and keeps a bounded, filterable log of deliveries.
//
// Each delivery is posted as JSON with these headers:
//
//	Content-Type: application/json
//	X-GroundCam-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>
//	X-GroundCam-Timestamp: <unix seconds of this attempt>
//	X-GroundCam-Event: <event type>
//	X-GroundCam-Delivery: <delivery id>
//
// An event gets up to 3 attempts: the initial one, a retry 1 minute after it
// and a last retry 5 minutes after the second. A 2xx response ends the
// delivery as delivered. A failed attempt is a non-2xx response, a transport
// error, or no response within the attempt timeout (10 s). It leaves the
// delivery failed with a retry scheduled, or exhausted when the attempts are
// used up or the next one would start more than 15 minutes after the initial
// attempt. Timestamps and retry timers come from the injected clock, so tests
// drive retries with a fake clock.
package webhook

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// Delivery policy of the contract's retry section.
const (
	// DefaultAttemptTimeout is how long an endpoint has to respond to one attempt.
	DefaultAttemptTimeout = 10 * time.Second
	// EventMaxAttempts is the attempt budget of a regular event.
	EventMaxAttempts = 3
	// DeliveryDeadline is how long after the initial attempt a retry may start.
	DeliveryDeadline = 15 * time.Minute
	// LogCapacity is how many deliveries the log keeps per webhook; older ones are dropped.
	LogCapacity = 1000
	// TestEvent is the event type of [Dispatcher.Test] deliveries.
	TestEvent = "webhook.test"
)

// retryDelays[i] is the wait between the start of attempt i+1 and attempt i+2.
var retryDelays = []time.Duration{time.Minute, 5 * time.Minute}

// errClosed is recorded on deliveries that the dispatcher stopped.
var errClosed = errors.New("webhook dispatcher closed")

// Dispatcher delivers webhook events and records them. It is safe for
// concurrent use. Create it with [New] and stop it with [Dispatcher.Close].
type Dispatcher struct {
	clock          clockwork.Clock
	client         *http.Client
	logger         *slog.Logger
	nextID         func() string
	attemptTimeout time.Duration

	// ctx is cancelled by Close and aborts attempts in flight.
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu      sync.Mutex
	idle    *sync.Cond // signalled when active drops or a scheduled retry is dropped
	logs    map[string]*webhookLog
	pending map[*record]struct{} // records with a retry timer set
	active  int                  // attempts in flight and timers that fired and are starting
	closed  bool
}

// Option configures a [Dispatcher].
type Option func(*Dispatcher)

// WithClock sets the clock of timestamps, retry timers and the attempt
// timeout. The default, also used for nil, is the real clock.
func WithClock(c clockwork.Clock) Option {
	return func(d *Dispatcher) {
		if c != nil {
			d.clock = c
		}
	}
}

// WithHTTPClient sets the client that posts deliveries, for example one that
// trusts a test server's TLS certificate. Redirects are never followed and
// the client's own Timeout is ignored: the dispatcher uses a copy of c with
// its own CheckRedirect, and times attempts on its clock. nil keeps the
// default client.
func WithHTTPClient(c *http.Client) Option {
	return func(d *Dispatcher) { d.client = c }
}

// WithLogger sets the logger of attempt outcomes. The default, also used
// for nil, discards logs.
func WithLogger(l *slog.Logger) Option {
	return func(d *Dispatcher) {
		if l != nil {
			d.logger = l
		}
	}
}

// WithIDs sets the generator of delivery IDs. The default, also used for
// nil, returns random 12-character alphanumeric IDs. Generated IDs must be
// unique, because the deliveries log uses them as cursors.
func WithIDs(next func() string) Option {
	return func(d *Dispatcher) {
		if next != nil {
			d.nextID = next
		}
	}
}

// WithAttemptTimeout sets how long an endpoint has to respond to one attempt,
// measured on the dispatcher's clock. The default is [DefaultAttemptTimeout];
// values of 0 or less keep it.
func WithAttemptTimeout(timeout time.Duration) Option {
	return func(d *Dispatcher) {
		if timeout > 0 {
			d.attemptTimeout = timeout
		}
	}
}

// New returns a running dispatcher with the given options applied in order.
func New(opts ...Option) *Dispatcher {
	d := &Dispatcher{
		clock:          clockwork.NewRealClock(),
		logger:         slog.New(slog.DiscardHandler),
		nextID:         randomID,
		attemptTimeout: DefaultAttemptTimeout,
		logs:           make(map[string]*webhookLog),
		pending:        make(map[*record]struct{}),
	}
	for _, opt := range opts {
		opt(d)
	}
	d.idle = sync.NewCond(&d.mu)
	d.ctx, d.cancel = context.WithCancelCause(context.Background())
	d.client = noRedirectClient(d.client)
	return d
}

// Send records a delivery of event to t and starts its initial attempt in
// the background. The returned snapshot has Attempts 0, Status failed and
// NextAttemptAt equal to CreatedAt, because the initial attempt is under way.
// After Close, the delivery is recorded as exhausted without an attempt.
func (d *Dispatcher) Send(t Target, event string, data any) Delivery {
	rec := d.newRecord(t, event, data, EventMaxAttempts)

	d.mu.Lock()
	defer d.mu.Unlock()
	d.store(rec)
	if d.closed {
		d.finishLocked(rec, errClosed)
		return rec.d.clone()
	}
	if rec.encodeErr != nil {
		d.finishLocked(rec, rec.encodeErr)
		return rec.d.clone()
	}
	d.active++
	go d.runAttempt(rec)
	return rec.d.clone()
}

// Test sends one webhook.test delivery to t and waits for its outcome. The
// delivery has MaxAttempts 1 and is recorded in the log like any other. The
// attempt ends early when ctx is cancelled or the dispatcher closes.
func (d *Dispatcher) Test(ctx context.Context, t Target, data any) TestResult {
	rec := d.newRecord(t, TestEvent, data, 1)

	d.mu.Lock()
	d.store(rec)
	switch {
	case d.closed:
		d.finishLocked(rec, errClosed)
	case rec.encodeErr != nil:
		d.finishLocked(rec, rec.encodeErr)
	default:
		d.active++
		d.mu.Unlock()
		d.attempt(ctx, rec, rec.d.CreatedAt)
		d.mu.Lock()
	}
	snapshot := rec.d.clone()
	d.mu.Unlock()

	return testResult(snapshot)
}

// testResult turns a finished webhook.test delivery into the contract's result.
func testResult(del Delivery) TestResult {
	res := TestResult{
		Success:    del.Status == StatusDelivered,
		HTTPStatus: del.HTTPStatus,
		DeliveryID: del.ID,
	}
	if del.HTTPStatus == nil {
		res.Error = del.LastError
	}
	return res
}

// Forget drops the log of a deleted webhook: its pending retries are
// cancelled, its attempts in flight are aborted and its records are removed.
func (d *Dispatcher) Forget(webhookID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	log, ok := d.logs[webhookID]
	if !ok {
		return
	}
	delete(d.logs, webhookID)
	log.cancel(errForgotten)
	for _, rec := range log.records {
		// An attempt still in flight must not schedule a retry when it ends.
		rec.dropped = true
		d.unscheduleLocked(rec)
	}
	log.records = nil
	d.idle.Broadcast()
}

// Wait blocks until no attempt is in flight and no retry is due on the
// clock. Retries scheduled for later do not block it. With a fake clock,
// call Wait after each Advance to let the attempts it triggered finish.
func (d *Dispatcher) Wait() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for d.active > 0 || d.retryDueLocked() {
		d.idle.Wait()
	}
}

// retryDueLocked reports whether a scheduled retry's time has come; its timer
// fired or is about to fire.
func (d *Dispatcher) retryDueLocked() bool {
	now := d.clock.Now()
	for rec := range d.pending {
		if !rec.d.NextAttemptAt.After(now) {
			return true
		}
	}
	return false
}

// Close stops every retry timer, aborts the attempts in flight and waits for
// them to end. Records stay readable; deliveries whose retry was cancelled
// become exhausted. Close is idempotent.
func (d *Dispatcher) Close() {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		for rec := range d.pending {
			d.unscheduleLocked(rec)
			d.finishLocked(rec, nil) // LastError stays that of the last attempt
		}
	}
	d.mu.Unlock()

	d.cancel(errClosed)
	d.Wait()
	d.client.CloseIdleConnections()
}

// noRedirectClient returns a copy of c, or of a default client, that returns
// redirect responses instead of following them.
func noRedirectClient(c *http.Client) *http.Client {
	var copied http.Client
	if c != nil {
		copied = *c
	} else {
		copied.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	copied.CheckRedirect = func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}
	// The attempt timeout runs on the injected clock instead.
	copied.Timeout = 0
	return &copied
}

// drainBody reads a bounded part of a response body so that the connection
// can be reused, then closes it.
func drainBody(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}
