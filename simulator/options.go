package simulator

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/jonboulle/clockwork"
)

// Defaults of [New].
const (
	// DefaultRateLimit is the number of requests each API key may send per
	// [DefaultRateWindow].
	DefaultRateLimit = 600
	// DefaultRateWindow is the rate limit's fixed window.
	DefaultRateWindow = time.Minute
	// DefaultSeed is the fixture seed when none is given.
	DefaultSeed uint64 = 1
)

// Option configures a [Server].
type Option interface {
	apply(*settings)
}

// optionFunc adapts a function to [Option].
type optionFunc func(*settings)

func (f optionFunc) apply(s *settings) { f(s) }

// settings are the values the options set.
type settings struct {
	clock         clockwork.Clock
	logger        *slog.Logger
	webhookClient *http.Client
	// webhookAnyHost lifts the loopback-only restriction of deliveries.
	webhookAnyHost bool
	rateLimit      int
	rateWindow     time.Duration
	seed           uint64
	sweepInterval  time.Duration
	createDelay    time.Duration
}

// defaultSettings returns the settings before any option.
func defaultSettings() settings {
	return settings{
		clock:      clockwork.NewRealClock(),
		logger:     slog.New(slog.DiscardHandler),
		rateLimit:  DefaultRateLimit,
		rateWindow: DefaultRateWindow,
		seed:       DefaultSeed,
	}
}

// WithClock sets the clock of every timestamp, expiry, reminder, rate-limit
// window and webhook retry. Tests pass a [clockwork.FakeClock]; the clock
// advance control endpoint works with any clock that has an
// Advance(time.Duration) method, such as a FakeClock or an [OffsetClock].
func WithClock(c clockwork.Clock) Option {
	return optionFunc(func(s *settings) { s.clock = c })
}

// WithLogger sets the structured logger. The default discards logs.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(s *settings) { s.logger = l })
}

// WithWebhookClient sets the HTTP client that delivers webhook events, for
// example one that trusts a test server's certificate. Webhook URLs must
// still use HTTPS.
func WithWebhookClient(c *http.Client) Option {
	return optionFunc(func(s *settings) { s.webhookClient = c })
}

// WithWebhookAnyHost lets webhook deliveries reach any host. By default
// they only reach localhost and loopback IPs, and a delivery to another
// host fails like an unreachable endpoint, so that examples such as
// https://mycrm.com/webhooks never receive traffic from a test.
func WithWebhookAnyHost() Option {
	return optionFunc(func(s *settings) { s.webhookAnyHost = true })
}

// WithRateLimit sets how many requests each API key may send per window.
// A limit or window of 0 or less keeps the default.
func WithRateLimit(limit int, window time.Duration) Option {
	return optionFunc(func(s *settings) {
		if limit > 0 {
			s.rateLimit = limit
		}
		if window > 0 {
			s.rateWindow = window
		}
	})
}

// WithSeed sets the seed of every generated id, key, token and secret. The
// same seed and clock give the same fixture and, for the same sequence of
// requests, the same ids.
func WithSeed(seed uint64) Option {
	return optionFunc(func(s *settings) { s.seed = seed })
}

// WithSweepInterval runs the time-driven transitions every interval on the
// clock in the background, in addition to each request. 0, the default,
// runs none in the background.
func WithSweepInterval(interval time.Duration) Option {
	return optionFunc(func(s *settings) { s.sweepInterval = interval })
}

// WithCreateDelay makes both session create operations wait this long on
// the clock after reserving their idempotency key, so that a second request
// with the same key meets the in-flight 409. The control API changes it at
// run time.
func WithCreateDelay(d time.Duration) Option {
	return optionFunc(func(s *settings) { s.createDelay = d })
}
