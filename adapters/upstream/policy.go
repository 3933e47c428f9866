package upstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"connectrpc.com/connect"
	"github.com/jonboulle/clockwork"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/groundcam/groundcam-gateway/adapters/telemetry"
)

// Reasons of the errors that the policy raises.
const (
	ReasonCircuitOpen = "UPSTREAM_CIRCUIT_OPEN"
	ReasonOverloaded  = "GATEWAY_OVERLOADED"
)

// Retry reasons: the "reason" attribute of groundcam.upstream.retries and
// of the retry log line.
const (
	retryServerError = "server_error"
	retryTransport   = "transport"
	retryBody        = "body"
	retryRateLimited = "rate_limited"
)

// PolicyConfig sets the resilience limits of upstream calls. The zero value
// of a field selects its default.
type PolicyConfig struct {
	// MaxAttempts bounds the HTTP attempts of one call, the first included.
	// Default 3.
	MaxAttempts int
	// BaseBackoff is the first retry's maximum wait; each retry doubles it,
	// up to MaxBackoff, and the wait is drawn uniformly below it (full
	// jitter). Defaults 50 ms and 1 s.
	BaseBackoff, MaxBackoff time.Duration
	// RetryBudget is the share of calls that may be retried, as a token
	// bucket refilled by RetryBudget per call and capped at 10 tokens.
	// Default 0.2.
	RetryBudget float64
	// DefaultTimeout bounds a call whose caller set no deadline.
	// Default 15 s.
	DefaultTimeout time.Duration
	// BreakerFailures is the number of consecutive failed attempts (5xx,
	// transport errors, unreadable bodies, attempts cut by the deadline)
	// that opens the circuit. Default 5.
	BreakerFailures int
	// BreakerOpen is how long an open circuit fails calls fast before it
	// lets a half-open probe through. Default 10 s.
	BreakerOpen time.Duration
	// MaxConcurrent bounds the upstream calls in flight and MaxQueued the
	// calls waiting for a slot; past both the call fails at once with
	// resource_exhausted. Defaults 64 and 256.
	MaxConcurrent, MaxQueued int
}

func (c PolicyConfig) withDefaults() PolicyConfig {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxAttempts, 3)
	def(&c.BreakerFailures, 5)
	def(&c.MaxConcurrent, 64)
	def(&c.MaxQueued, 256)
	defDur(&c.BaseBackoff, 50*time.Millisecond)
	defDur(&c.MaxBackoff, time.Second)
	defDur(&c.DefaultTimeout, 15*time.Second)
	defDur(&c.BreakerOpen, 10*time.Second)
	if c.RetryBudget <= 0 {
		c.RetryBudget = 0.2
	}
	return c
}

// Policy applies deadlines, safe retries, rate-limit waits, a circuit
// breaker and load shedding to upstream calls. One Policy serves one
// upstream and is safe for concurrent use.
type Policy struct {
	cfg     PolicyConfig
	clock   clockwork.Clock
	logger  *slog.Logger
	meters  metric.MeterProvider
	breaker *gobreaker.TwoStepCircuitBreaker[struct{}]
	slots   chan struct{}
	budget  *retryBudget

	mu     sync.Mutex
	queued int

	retries metric.Int64Counter
	shed    metric.Int64Counter
	state   metric.Int64Gauge
}

// PolicyOption configures a [Policy].
type PolicyOption func(*Policy)

// WithPolicyClock sets the clock of backoff and rate-limit waits and of
// HTTP-date Retry-After values. Deadlines stay on the wall clock, as
// context deadlines are, and so does the circuit breaker's open period.
func WithPolicyClock(c clockwork.Clock) PolicyOption {
	return func(p *Policy) { p.clock = c }
}

// WithPolicyLogger sets the logger of retries and circuit changes.
func WithPolicyLogger(l *slog.Logger) PolicyOption {
	return func(p *Policy) { p.logger = l }
}

// WithPolicyMeterProvider sets the meter provider of the retry, shedding
// and circuit-state metrics. The default is the global provider.
func WithPolicyMeterProvider(mp metric.MeterProvider) PolicyOption {
	return func(p *Policy) { p.meters = mp }
}

// NewPolicy returns a policy with cfg's limits.
func NewPolicy(cfg PolicyConfig, opts ...PolicyOption) *Policy {
	cfg = cfg.withDefaults()
	p := &Policy{
		cfg:    cfg,
		clock:  clockwork.NewRealClock(),
		logger: slog.Default(),
		meters: otel.GetMeterProvider(),
		slots:  make(chan struct{}, cfg.MaxConcurrent),
		budget: &retryBudget{tokens: 10, max: 10, refill: cfg.RetryBudget},
	}
	for _, opt := range opts {
		opt(p)
	}
	p.initMetrics()
	p.breaker = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "groundcam",
		MaxRequests: 1,
		Timeout:     cfg.BreakerOpen,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= uint32(cfg.BreakerFailures)
		},
		IsExcluded:    func(err error) bool { return errors.Is(err, errNeutral) },
		OnStateChange: p.onStateChange,
	})
	p.state.Record(context.Background(), int64(gobreaker.StateClosed))
	return p
}

func (p *Policy) initMetrics() {
	meter := p.meters.Meter("github.com/groundcam/groundcam-gateway/adapters/upstream")
	p.retries, _ = meter.Int64Counter("groundcam.upstream.retries",
		metric.WithDescription("Upstream attempts repeated after a failure, by route and reason."))
	p.shed, _ = meter.Int64Counter("groundcam.upstream.shed",
		metric.WithDescription("Calls rejected because the upstream concurrency and queue limits were full."))
	p.state, _ = meter.Int64Gauge("groundcam.upstream.circuit.state",
		metric.WithDescription("Circuit breaker state: 0 closed, 1 half-open, 2 open."))
}

// onStateChange runs under the breaker's lock, so it must not call back
// into the breaker.
func (p *Policy) onStateChange(_ string, from, to gobreaker.State) {
	p.logger.Warn("upstream circuit changed state", "from", from.String(), "to", to.String())
	p.state.Record(context.Background(), int64(to))
}

// Breaker verdicts that [Policy.attempt] reports for an attempt that did
// not succeed. A neutral attempt, such as one the caller canceled, is no
// evidence about the upstream's health and is left out of the counts.
var (
	errFailure = errors.New("upstream attempt failed")
	errNeutral = errors.New("upstream attempt neither failed nor succeeded")
)

// outcome classifies one attempt.
type outcome struct {
	resp      *response
	err       error // transport or body error; resp is nil
	retryable bool
	wait      time.Duration // minimum wait the upstream asked for
	reason    string
	verdict   error // nil, errFailure or errNeutral
}

// execute runs the attempts of one call. A nil policy makes one attempt.
func (p *Policy) execute(ctx context.Context, c *Client, cl *call) (*response, int, error) {
	if p == nil {
		resp, err := c.send(ctx, cl)
		if err != nil {
			return nil, 1, transportError(ctx, cl.route, err)
		}
		if resp.status/100 != 2 {
			return nil, 1, c.upstreamError(cl.route, resp)
		}
		return resp, 1, nil
	}

	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.cfg.DefaultTimeout)
		defer cancel()
	}
	release, err := p.acquire(ctx, cl.route)
	if err != nil {
		return nil, 0, err
	}
	defer release()
	p.budget.deposit()

	for attempt := 1; ; attempt++ {
		start := time.Now()
		o, err := p.attempt(telemetry.WithAttempt(ctx, attempt), c, cl)
		if err != nil {
			return nil, attempt, err
		}
		wait, retry := p.nextWait(ctx, o, attempt, time.Since(start))
		if !retry {
			return p.finish(ctx, c, cl, o, attempt)
		}
		p.recordRetry(ctx, cl, o, attempt, wait)
		if err := p.sleep(ctx, wait); err != nil {
			// Only the caller can end the wait: it fits the deadline.
			return nil, attempt, transportError(ctx, cl.route, err)
		}
	}
}

// nextWait decides whether the call makes another attempt after o and how
// long it waits first: at least the backoff and at least what the upstream
// asked for. A retry that could not finish before the deadline is not
// started, taking the last attempt's duration as the next one's.
func (p *Policy) nextWait(ctx context.Context, o outcome, attempt int, took time.Duration) (time.Duration, bool) {
	if !o.retryable || attempt >= p.cfg.MaxAttempts {
		return 0, false
	}
	wait := max(p.backoff(attempt), o.wait)
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait+took {
		return 0, false
	}
	return wait, p.budget.withdraw()
}

// recordRetry counts and logs one retry.
func (p *Policy) recordRetry(ctx context.Context, cl *call, o outcome, attempt int, wait time.Duration) {
	p.retries.Add(ctx, 1, metric.WithAttributes(
		attribute.String("http.route", cl.route.Template),
		attribute.String("reason", o.reason)))
	status := 0
	if o.resp != nil {
		status = o.resp.status
	}
	p.logger.InfoContext(ctx, "retrying upstream call",
		"route", cl.route.Name(), "attempt", attempt+1, "reason", o.reason,
		"http_status", status, "wait_ms", wait.Milliseconds())
}

// attempt sends one request through the circuit breaker. Its error is the
// open circuit's; the attempt's own failure is in the outcome.
func (p *Policy) attempt(ctx context.Context, c *Client, cl *call) (outcome, error) {
	done, err := p.breaker.Allow()
	if err != nil {
		return outcome{}, NewError(connect.CodeUnavailable, http.StatusServiceUnavailable, ReasonCircuitOpen,
			fmt.Sprintf("the upstream failed repeatedly, so the gateway's circuit breaker, shared by all "+
				"routes, rejected %s without sending it; retry in a few seconds", cl.route.Name()))
	}
	resp, err := c.send(ctx, cl)
	o := classify(ctx, cl, resp, err, p.clock.Now())
	done(o.verdict)
	return o, nil
}

// classify decides whether an attempt may be repeated and how it counts
// for the circuit breaker. Reads and creates with an idempotency key may be
// repeated after any failure. Other writes may be repeated only when the
// request provably never reached the upstream, or when the upstream
// rate-limited it.
func classify(ctx context.Context, cl *call, resp *response, err error, now time.Time) outcome {
	if err != nil {
		return classifyError(ctx, cl, err)
	}
	switch {
	case resp.status == http.StatusTooManyRequests:
		// NOTE: the upstream rate-limits a request before acting on it (the
		// simulator does, the contract does not state it), so any method may be
		// repeated once the wait is over. A 429 without a wait, such as
		// SMS_LIMIT_REACHED, is a quota that lasts hours: not retried.
		wait, limited := retryAfter(resp.header, now)
		return outcome{resp: resp, retryable: limited, wait: wait, reason: retryRateLimited}
	case resp.status >= 500:
		return outcome{resp: resp, retryable: cl.idempotent, reason: retryServerError, verdict: errFailure}
	}
	return outcome{resp: resp}
}

// classifyError classifies an attempt that got no usable response.
func classifyError(ctx context.Context, cl *call, err error) outcome {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		// No time is left for a retry, but an upstream that lets the
		// deadline pass counts against its health.
		return outcome{err: err, verdict: errFailure}
	case ctx.Err() != nil:
		return outcome{err: err, verdict: errNeutral}
	}
	var tooLarge errTooLarge
	if errors.As(err, &tooLarge) {
		// The same request would get the same body.
		return outcome{err: err, verdict: errNeutral}
	}
	var be *bodyError
	if errors.As(err, &be) {
		return outcome{err: err, retryable: cl.idempotent, reason: retryBody, verdict: errFailure}
	}
	return outcome{err: err, retryable: cl.idempotent || neverSent(err), reason: retryTransport, verdict: errFailure}
}

// finish turns the last attempt's outcome into the call's result.
func (p *Policy) finish(ctx context.Context, c *Client, cl *call, o outcome, attempts int) (*response, int, error) {
	if o.err != nil {
		return nil, attempts, transportError(ctx, cl.route, o.err)
	}
	if o.resp.status/100 != 2 {
		return nil, attempts, c.upstreamError(cl.route, o.resp)
	}
	return o.resp, attempts, nil
}

// neverSent reports errors that prove the request never reached the
// upstream: it could not be resolved or connected to.
func neverSent(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// backoff returns the full-jitter wait before retry number attempt.
func (p *Policy) backoff(attempt int) time.Duration {
	ceiling := p.cfg.BaseBackoff << (attempt - 1)
	if ceiling <= 0 || ceiling > p.cfg.MaxBackoff {
		ceiling = p.cfg.MaxBackoff
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

func (p *Policy) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := p.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.Chan():
		return nil
	}
}

// acquire takes a concurrency slot, waiting in a bounded queue.
func (p *Policy) acquire(ctx context.Context, route *Route) (func(), error) {
	select {
	case p.slots <- struct{}{}:
		return p.release, nil
	default:
	}

	p.mu.Lock()
	if p.queued >= p.cfg.MaxQueued {
		p.mu.Unlock()
		p.shed.Add(ctx, 1, metric.WithAttributes(attribute.String("http.route", route.Template)))
		return nil, NewError(connect.CodeResourceExhausted, http.StatusServiceUnavailable, ReasonOverloaded,
			fmt.Sprintf("gateway overloaded: %d upstream calls in flight and %d queued; retry with backoff",
				p.cfg.MaxConcurrent, p.cfg.MaxQueued))
	}
	p.queued++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.queued--
		p.mu.Unlock()
	}()

	select {
	case p.slots <- struct{}{}:
		return p.release, nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, NewError(connect.CodeDeadlineExceeded, http.StatusGatewayTimeout, ReasonTimeout,
				fmt.Sprintf("upstream %s: the deadline passed while the call waited in the gateway's queue "+
					"behind %d calls in flight", route.Name(), p.cfg.MaxConcurrent))
		}
		return nil, transportError(ctx, route, ctx.Err())
	}
}

func (p *Policy) release() { <-p.slots }

// retryBudget is a token bucket that bounds retries to a share of calls.
type retryBudget struct {
	mu     sync.Mutex
	tokens float64
	max    float64
	refill float64
}

func (b *retryBudget) deposit() {
	b.mu.Lock()
	b.tokens = min(b.tokens+b.refill, b.max)
	b.mu.Unlock()
}

func (b *retryBudget) withdraw() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
