package simulator

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/groundcam/groundcam-gateway/simulator/fault"
	"github.com/groundcam/groundcam-gateway/simulator/webhook"
)

// Server is the simulated GroundCam API. It serves the upstream's REST API
// under /v1 and the control API under /_sim/. It is safe for concurrent use:
// one mutex guards the simulated state. Create it with [New] and stop its
// background work with [Server.Close].
type Server struct {
	clock   clockwork.Clock
	log     *slog.Logger
	faults  *fault.Injector
	hooks   *webhook.Dispatcher
	rec     *recorder
	limiter *rateLimiter
	routes  *router
	api     http.Handler
	control http.Handler
	seed    uint64

	mu          sync.Mutex
	st          *state
	createDelay time.Duration

	deliveryMu  sync.Mutex
	deliveryRNG *rand.Rand

	stop      chan struct{}
	done      sync.WaitGroup
	closeOnce sync.Once
}

var _ http.Handler = (*Server)(nil)

// New returns a simulator over the demo fixture, with the options applied
// in order.
func New(opts ...Option) (*Server, error) {
	cfg := defaultSettings()
	for _, opt := range opts {
		opt.apply(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}

	s := &Server{
		clock:       cfg.clock,
		log:         cfg.logger,
		faults:      fault.New(),
		rec:         newRecorder(),
		limiter:     newRateLimiter(cfg.rateLimit, cfg.rateWindow),
		seed:        cfg.seed,
		createDelay: cfg.createDelay,
		deliveryRNG: rand.New(rand.NewPCG(cfg.seed, cfg.seed+1)),
		stop:        make(chan struct{}),
	}
	s.st = newFixture(cfg.seed, s.now())

	s.hooks = webhook.New(
		webhook.WithClock(cfg.clock),
		webhook.WithLogger(cfg.logger),
		webhook.WithIDs(s.deliveryID),
		webhook.WithHTTPClient(webhookClient(cfg.webhookClient, cfg.webhookAnyHost)),
	)

	s.routes = newRouter(apiRoutes())
	s.api = s.faults.Middleware(http.HandlerFunc(s.serveAPI))
	s.control = s.controlHandler()
	if cfg.sweepInterval > 0 {
		s.done.Add(1)
		go s.sweepLoop(cfg.sweepInterval)
	}
	return s, nil
}

// validate reports every invalid setting together.
func (c settings) validate() error {
	var errs []error
	if c.clock == nil {
		errs = append(errs, errors.New("simulator: clock is nil; pass a clockwork.Clock to WithClock"))
	}
	if c.logger == nil {
		errs = append(errs, errors.New("simulator: logger is nil; pass a *slog.Logger to WithLogger"))
	}
	if c.sweepInterval < 0 {
		errs = append(errs, errors.New("simulator: sweep interval is negative; pass 0 to disable it"))
	}
	if c.createDelay < 0 {
		errs = append(errs, errors.New("simulator: create delay is negative; pass 0 to disable it"))
	}
	return errors.Join(errs...)
}

// ServeHTTP routes /v1 to the REST API and /_sim/ to the control API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == "/_sim" || strings.HasPrefix(path, "/_sim/"):
		s.Sweep()
		s.control.ServeHTTP(w, r)
	case path == "/v1" || strings.HasPrefix(path, "/v1/"):
		m := s.routes.match(r.Method, r.URL.EscapedPath())
		s.rec.record(r, m.key, s.clock.Now())
		s.api.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), matchKey{}, m)))
	default:
		writeError(w, notFound("No route for "+r.Method+" "+path+
			"; the API is served under /v1 and the control API under /_sim/"))
	}
}

// Close stops the background sweeper, the webhook dispatcher and the fault
// injector, and waits for their goroutines. It is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.done.Wait()
		s.faults.Close()
		s.hooks.Close()
	})
}

// sweepLoop runs the time-driven transitions every interval until Close.
func (s *Server) sweepLoop(interval time.Duration) {
	defer s.done.Done()
	ticker := s.clock.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-ticker.Chan():
			s.Sweep()
		}
	}
}

// now returns the clock's time in UTC, truncated to the millisecond that
// the wire format carries.
func (s *Server) now() time.Time {
	return s.clock.Now().UTC().Truncate(time.Millisecond)
}

// deliveryID returns the next webhook delivery id.
func (s *Server) deliveryID() string {
	s.deliveryMu.Lock()
	defer s.deliveryMu.Unlock()
	b := make([]byte, 12)
	for i := range b {
		b[i] = alphanumeric[s.deliveryRNG.IntN(len(alphanumeric))]
	}
	return string(b)
}

// Keys returns the demo fixture's API keys in a fixed order: Acme Corp (Pro),
// Bistro Martin (two credits), Nordlicht GmbH (no SMS, no scheduling), a
// revoked Acme key, and a key whose organization no longer exists.
func (s *Server) Keys() []DemoKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.demoKeys()
}

// Faults returns the fault injector that wraps the /v1 API.
func (s *Server) Faults() *fault.Injector { return s.faults }

// Webhooks returns the dispatcher that delivers webhook events. Tests call
// its Wait after a request or a clock advance to let deliveries finish.
func (s *Server) Webhooks() *webhook.Dispatcher { return s.hooks }

// Clock returns the simulator's clock.
func (s *Server) Clock() clockwork.Clock { return s.clock }

// SetCreateDelay sets how long session creation waits after reserving its
// idempotency key; 0 disables the wait.
func (s *Server) SetCreateDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.createDelay = max(d, 0)
}

// SetRateLimit sets the per-key rate limit and clears the current windows.
// A limit or window of 0 or less keeps the current value.
func (s *Server) SetRateLimit(limit int, window time.Duration) {
	s.limiter.configure(limit, window)
}

// Reset replaces the state with a fresh fixture at the current time,
// drops every webhook's deliveries and clears the rate-limit windows.
// Call counters and fault rules are kept.
func (s *Server) Reset() {
	s.mu.Lock()
	old := s.st
	s.st = newFixture(s.seed, s.now())
	s.mu.Unlock()

	for id := range old.webhooks {
		s.hooks.Forget(id)
	}
	s.limiter.configure(0, 0)
}
