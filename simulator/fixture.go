package simulator

import (
	"math/rand/v2"
	"time"
)

// DemoKey is an API key of the demo fixture and what it demonstrates.
type DemoKey struct {
	// OrganizationID is the key's organization.
	OrganizationID string `json:"organizationId"`
	// OrganizationName is the organization's display name, "" when the
	// organization does not exist.
	OrganizationName string `json:"organizationName"`
	// KeyID is the key's identifier, as GET /v1/auth/verify returns it.
	KeyID string `json:"keyId"`
	// Name is the key's label.
	Name string `json:"name"`
	// Key is the secret to send as "Authorization: Bearer <Key>".
	Key string `json:"key"`
	// Note is what the key demonstrates.
	Note string `json:"note"`
}

// orgSpec describes one fixture organization.
type orgSpec struct {
	name, slug    string
	plan          planInfo
	features      features
	smsConfigured bool
	scheduling    bool
	quota         int
	subscription  int
	pack          int
	agents        []agentSpec
	closureTypes  []closureSpec
	keyName       string
	keyNote       string
}

// agentSpec describes one fixture member.
type agentSpec struct {
	name, email, role string
	disabled          bool
	// joinedDaysAgo places joinedAt before the fixture's start.
	joinedDaysAgo int
}

// closureSpec describes one fixture closure type.
type closureSpec struct {
	name, icon, color string
	requireComment    bool
}

// fixtureOrgs returns the demo organizations: a Pro organization with every
// feature and plenty of credits, a small one with two credits and one SMS
// per session, and a trial one without SMS, scheduling or closure types.
func fixtureOrgs() []orgSpec {
	return []orgSpec{
		{
			name: "Acme Corp", slug: "acme",
			plan:          planInfo{ID: ptr("pro"), Name: ptr("Pro"), Status: ptr("active")},
			features:      features{true, true, true, true, true, true, 60, 3, true, true, true, true},
			smsConfigured: true, scheduling: true,
			quota: 100000, subscription: 100000, pack: 1000,
			agents: []agentSpec{
				{"Marie Martin", "marie.martin@acme.example", "owner", false, 400},
				{"Jean Dupont", "jean.dupont@acme.example", "admin", false, 300},
				{"Sophie Bernard", "sophie.bernard@acme.example", "agent", false, 200},
				{"Lucas Petit", "lucas.petit@acme.example", "agent", false, 120},
				{"Emma Leroy", "emma.leroy@acme.example", "viewer", false, 90},
				{"Hugo Moreau", "hugo.moreau@acme.example", "agent", true, 60},
			},
			closureTypes: []closureSpec{
				{"Problem resolved", "CheckCircle", "green", false},
				{"Escalated", "AlertTriangle", "orange", true},
				{"No resolution", "XCircle", "red", true},
				{"Follow-up scheduled", "CalendarClock", "blue", false},
			},
			keyName: "Odoo Integration",
			keyNote: "Pro plan, all features, plenty of credits, maxSmsPerSession 3",
		},
		{
			name: "Bistro Martin", slug: "bistro-martin",
			plan:          planInfo{ID: ptr("starter"), Name: ptr("Starter"), Status: ptr("active")},
			features:      features{true, true, false, false, true, false, 30, 1, false, false, true, false},
			smsConfigured: true, scheduling: true,
			quota: 5, subscription: 1, pack: 1,
			agents: []agentSpec{
				{"Paul Martin", "paul@bistro-martin.example", "owner", false, 250},
				{"Julie Martin", "julie@bistro-martin.example", "agent", false, 100},
			},
			closureTypes: []closureSpec{{"Resolved", "CheckCircle", "green", false}},
			keyName:      "Helpdesk",
			keyNote:      "Starter plan with 2 credits (402 INSUFFICIENT_CREDITS on the third session), maxSmsPerSession 1",
		},
		{
			name:          "Nordlicht GmbH",
			plan:          planInfo{ID: ptr("trial"), Name: ptr("Trial"), Status: ptr("trialing")},
			features:      features{true, true, false, false, false, false, 15, 0, false, false, true, false},
			smsConfigured: false, scheduling: false,
			quota: 0, subscription: 0, pack: 25,
			agents: []agentSpec{
				{"Anna Schmidt", "anna.schmidt@nordlicht.example", "owner", false, 30},
				{"Felix Wagner", "felix.wagner@nordlicht.example", "agent", false, 10},
			},
			keyName: "Trial",
			keyNote: "Trial plan: SMS not configured (500 SMS_NOT_CONFIGURED when an SMS would be sent), " +
				"scheduling disabled (403 SCHEDULING_NOT_ENABLED), no closure types, 25 pack credits",
		},
	}
}

// newFixture builds the demo state for seed at now. Equal seeds and times
// give equal ids, keys and timestamps.
func newFixture(seed uint64, now time.Time) *state {
	st := &state{
		rng:          rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		orgs:         map[string]*org{},
		keys:         map[string]*apiKey{},
		sessions:     map[string]*session{},
		appointments: map[string]*appointment{},
		webhooks:     map[string]*webhookEndpoint{},
		idempotency:  newIdempotencyStore(),
	}
	for _, spec := range fixtureOrgs() {
		o := st.addOrg(spec, now)
		st.addKey(o.id, spec.keyName, false, spec.keyNote)
	}
	acme := st.orgOrder[0]
	st.addKey(acme.id, "Revoked integration", true,
		"revoked Acme key: 401 API_KEY_REVOKED on every request")
	st.addKey(st.newID("org_", 10), "Orphaned key", false,
		"valid key of a deleted organization: 404 ORG_NOT_FOUND on every request")

	seedSessions(st, acme, now)
	seedSessions(st, st.orgOrder[1], now)
	return st
}

// addOrg creates an organization from spec.
func (st *state) addOrg(spec orgSpec, now time.Time) *org {
	o := &org{
		id:            st.newID("org_", 10),
		name:          spec.name,
		slug:          spec.slug,
		plan:          spec.plan,
		features:      spec.features,
		smsConfigured: spec.smsConfigured,
		scheduling:    spec.scheduling,
		credits: credits{
			subscriptionRemaining: spec.subscription,
			subscriptionQuota:     spec.quota,
			pack:                  spec.pack,
		},
	}
	if spec.quota > 0 {
		o.credits.resetsAt = ptr(startOfNextMonth(now))
	}
	for _, a := range spec.agents {
		o.agents = append(o.agents, &agent{
			id:          st.newID("", 12),
			email:       a.email,
			displayName: a.name,
			role:        a.role,
			disabled:    a.disabled,
			joinedAt:    now.Add(-time.Duration(a.joinedDaysAgo) * 24 * time.Hour).Truncate(time.Hour),
		})
	}
	for _, c := range spec.closureTypes {
		o.closureTypes = append(o.closureTypes, &closureType{
			id:             st.newID("ct_", 8),
			name:           c.name,
			icon:           ptr(c.icon),
			color:          ptr(c.color),
			requireComment: c.requireComment,
		})
	}
	st.orgs[o.id] = o
	st.orgOrder = append(st.orgOrder, o)
	return o
}

// addKey creates an API key of the organization.
func (st *state) addKey(orgID, name string, revoked bool, note string) *apiKey {
	k := &apiKey{
		id:      st.newID("key_", 10),
		name:    name,
		secret:  "gc_live_" + st.newHex(32),
		orgID:   orgID,
		revoked: revoked,
		note:    note,
	}
	st.keys[k.secret] = k
	st.keyOrder = append(st.keyOrder, k)
	return k
}

// demoKeys returns the fixture's keys in creation order.
func (st *state) demoKeys() []DemoKey {
	out := make([]DemoKey, 0, len(st.keyOrder))
	for _, k := range st.keyOrder {
		dk := DemoKey{OrganizationID: k.orgID, KeyID: k.id, Name: k.name, Key: k.secret, Note: k.note}
		if o := st.orgs[k.orgID]; o != nil {
			dk.OrganizationName = o.name
		}
		out = append(out, dk)
	}
	return out
}

// startOfNextMonth returns midnight UTC of the first day of the month after t.
func startOfNextMonth(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
}
