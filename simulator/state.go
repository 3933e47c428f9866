package simulator

import (
	"math/rand/v2"
	"time"
)

// alphanumeric is the alphabet of generated ids and tokens.
const alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// maxSessionsPerOrg bounds the sessions kept per organization; past it the
// oldest sessions in a final status are dropped first.
const maxSessionsPerOrg = 20000

// maxAppointmentsPerOrg bounds the appointments kept per organization.
const maxAppointmentsPerOrg = 20000

// state is everything the simulator stores. The Server's mutex guards it.
type state struct {
	rng *rand.Rand
	// seq orders objects created at the same instant.
	seq int64

	orgs         map[string]*org
	orgOrder     []*org
	keys         map[string]*apiKey // by the secret key
	keyOrder     []*apiKey
	sessions     map[string]*session
	appointments map[string]*appointment
	webhooks     map[string]*webhookEndpoint
	idempotency  *idempotencyStore

	// nextDue is the earliest time a time-driven transition is due; the
	// sweep does nothing before it. The zero time forces a full sweep.
	nextDue time.Time
}

// org is one organization with its members, configuration and data.
type org struct {
	id, name, slug string
	plan           planInfo
	features       features
	smsConfigured  bool
	scheduling     bool
	credits        credits
	agents         []*agent
	closureTypes   []*closureType
	sessions       []*session // in creation order
	appointments   []*appointment
	webhooks       []*webhookEndpoint
}

// planInfo is the organization's subscription plan.
type planInfo struct {
	ID     *string `json:"id"`
	Name   *string `json:"name"`
	Status *string `json:"status"`
}

// features is the contract's features object.
type features struct {
	Screenshots        bool `json:"screenshots"`
	Audio              bool `json:"audio"`
	Drawing            bool `json:"drawing"`
	LaserPointer       bool `json:"laserPointer"`
	Chat               bool `json:"chat"`
	Geolocation        bool `json:"geolocation"`
	MaxSessionDuration int  `json:"maxSessionDuration"`
	MaxSMSPerSession   int  `json:"maxSmsPerSession"`
	SatisfactionSurvey bool `json:"satisfactionSurvey"`
	CustomSubdomain    bool `json:"customSubdomain"`
	APIAccess          bool `json:"apiAccess"`
	DetailedStatistics bool `json:"detailedStatistics"`
}

// credits is the organization's balance: subscription credits are spent
// before pack credits.
type credits struct {
	subscriptionRemaining int
	subscriptionQuota     int
	pack                  int
	// resetsAt is when subscription credits refill to the quota; nil
	// without a subscription.
	resetsAt *time.Time
}

// available returns the total credits.
func (c credits) available() int { return c.subscriptionRemaining + c.pack }

// take spends one credit, subscription first, and reports whether one was left.
func (c *credits) take() bool {
	switch {
	case c.subscriptionRemaining > 0:
		c.subscriptionRemaining--
	case c.pack > 0:
		c.pack--
	default:
		return false
	}
	return true
}

// agent is a member of an organization.
type agent struct {
	id, email, displayName, role string
	disabled                     bool
	joinedAt                     time.Time
}

// closureType is a session closure category.
type closureType struct {
	id, name       string
	icon, color    *string
	requireComment bool
}

// apiKey is an API key and the organization it belongs to.
type apiKey struct {
	id, name, secret, orgID string
	revoked                 bool
	// note is what the key demonstrates, shown in the demo key list.
	note string
}

// prefix returns the key's displayed prefix, such as gc_live_a1b2c3d4.
func (k *apiKey) prefix() string {
	if len(k.secret) < 16 {
		return k.secret
	}
	return k.secret[:16]
}

// newID returns a random id of n characters from [alphanumeric] after prefix.
func (st *state) newID(prefix string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphanumeric[st.rng.IntN(len(alphanumeric))]
	}
	return prefix + string(b)
}

// newHex returns n random lowercase hexadecimal characters.
func (st *state) newHex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[st.rng.IntN(len(digits))]
	}
	return string(b)
}

// nextSeq returns the next creation sequence number.
func (st *state) nextSeq() int64 {
	st.seq++
	return st.seq
}

// findAgent returns the organization's member with the id, or nil.
func (o *org) findAgent(id string) *agent {
	for _, a := range o.agents {
		if a.id == id {
			return a
		}
	}
	return nil
}

// findClosureType returns the closure type with the name, or nil.
func (o *org) findClosureType(name string) *closureType {
	for _, ct := range o.closureTypes {
		if ct.name == name {
			return ct
		}
	}
	return nil
}

// session returns the organization's session with the id, or nil.
func (st *state) session(o *org, id string) *session {
	s := st.sessions[id]
	if s == nil || s.orgID != o.id {
		return nil
	}
	return s
}

// appointment returns the organization's appointment with the id, or nil.
func (st *state) appointment(o *org, id string) *appointment {
	a := st.appointments[id]
	if a == nil || a.orgID != o.id {
		return nil
	}
	return a
}

// webhook returns the organization's webhook with the id, or nil.
func (st *state) webhook(o *org, id string) *webhookEndpoint {
	w := st.webhooks[id]
	if w == nil || w.orgID != o.id {
		return nil
	}
	return w
}

// due lowers nextDue to t. A zero nextDue already forces a full sweep.
func (st *state) due(t time.Time) {
	if !st.nextDue.IsZero() && t.Before(st.nextDue) {
		st.nextDue = t
	}
}
