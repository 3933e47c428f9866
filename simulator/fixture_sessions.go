package simulator

import "time"

// seededSession describes one fixture session. Its creation time is a
// fraction of the time elapsed since midnight UTC, so that the sessions fall
// in the current day, week and month whatever the clock's time. A positive
// ageDays puts the session that many days before midnight instead.
type seededSession struct {
	agentRole          int // index into the organization's agents
	status             string
	mode               string
	phone, name, email string
	crmID, ticketURL   string
	metadata           map[string]any
	tags               []string
	created            float64 // fraction of the day elapsed so far
	minutes            float64 // video length of completed sessions
	ageDays            int
	closure, notes     string
	rating             float64
	comment            string
	screenshots        int
	recordings         int
	sms                int
}

// fixtureSessions returns the seeded sessions of the organization at index i.
func fixtureSessions(i int) []seededSession {
	if i == 1 {
		return []seededSession{{
			agentRole: 1, status: "completed", mode: "camera",
			phone: "+33698765432", name: "Claire Fontaine", tags: []string{"kitchen"},
			created: 0.40, minutes: 7, rating: 5, screenshots: 1, sms: 1,
		}}
	}
	return []seededSession{
		{
			agentRole: 2, status: "completed", mode: "camera",
			phone: "+33612345678", name: "Jean Dupont", crmID: "TICKET-1001",
			ticketURL: "https://crm.example.com/tickets/1001",
			metadata:  map[string]any{"department": "support", "priority": "high"},
			tags:      []string{"installation", "urgent"},
			created:   0.10, minutes: 13,
			closure: "Problem resolved", notes: "Client had a plumbing issue under the kitchen sink",
			rating: 5, comment: "Very helpful, resolved my issue quickly!",
			screenshots: 2, recordings: 1, sms: 1,
		},
		{
			agentRole: 3, status: "completed", mode: "screen",
			name: "Camille Roux", email: "camille.roux@email.example", crmID: "TICKET-1002",
			metadata: map[string]any{"department": "billing", "invoice": 4521.0},
			tags:     []string{"billing"}, created: 0.35, minutes: 9,
			closure: "Escalated", notes: "Invoice dispute forwarded to accounting",
			rating: 4, screenshots: 1,
		},
		{
			agentRole: 2, status: "cancelled", mode: "camera",
			phone: "+33611223344", name: "Luc Girard", crmID: "TICKET-1003",
			created: 0.50, sms: 1,
		},
		{
			agentRole: 3, status: "expired", mode: "camera",
			phone: "+4915112345678", name: "Jonas Weber",
			metadata: map[string]any{"department": "support"},
			created:  0.55, sms: 2,
		},
		{
			agentRole: 1, status: "active", mode: "camera",
			phone: "+34612345678", name: "Lucia Garcia", tags: []string{"hardware"},
			created: 0.90, sms: 1,
		},
		{
			agentRole: 2, status: "pending", mode: "camera",
			phone: "+33655667788", name: "Nina Caron", crmID: "TICKET-1006",
			metadata: map[string]any{"department": "sales"}, created: 0.95, sms: 1,
		},
		{
			agentRole: 3, status: "completed", mode: "camera", ageDays: 3,
			phone: "+33644556677", name: "Marc Lemoine", tags: []string{"plumbing", "shipping"}, minutes: 12,
			rating: 3, closure: "Follow-up scheduled", screenshots: 1, recordings: 1, sms: 1,
		},
		{
			agentRole: 2, status: "completed", mode: "camera", ageDays: 40,
			phone: "+33633445566", name: "Alice Morel", tags: []string{"hardware"}, minutes: 6,
			rating: 4, sms: 1,
		},
	}
}

// seedSessions adds the fixture sessions of o.
func seedSessions(st *state, o *org, now time.Time) {
	index := 0
	for i, candidate := range st.orgOrder {
		if candidate == o {
			index = i
		}
	}
	midnight := startOfDay(now)
	elapsed := now.Sub(midnight)
	// Each session's events fit in its share of the day so far, so that
	// none lands after now, even just after midnight.
	share := elapsed / 20
	for _, spec := range fixtureSessions(index) {
		created := midnight.Add(time.Duration(spec.created * float64(elapsed))).Truncate(time.Millisecond)
		lead := min(90*time.Second, share/10)
		length := min(time.Duration(spec.minutes*float64(time.Minute)), share/2)
		if spec.ageDays > 0 {
			created = midnight.Add(-time.Duration(spec.ageDays)*24*time.Hour + 10*time.Hour)
			lead, length = 90*time.Second, time.Duration(spec.minutes*float64(time.Minute))
		}
		started := created.Add(lead).Truncate(time.Millisecond)
		ended := started.Add(length).Truncate(time.Millisecond)
		seedSession(st, o, spec, now, created, started, ended)
	}
}

// seedSession adds one fixture session with the given times.
func seedSession(st *state, o *org, spec seededSession, now, created, started, ended time.Time) {
	a := o.agents[spec.agentRole]
	s := &session{
		id: st.newID("", 12), orgID: o.id, seq: st.nextSeq(), status: spec.status,
		agentID: a.id, agentName: ptr(a.displayName),
		clientPhone: spec.phone, clientName: strOrNil(spec.name), clientEmail: strOrNil(spec.email),
		crmID: strOrNil(spec.crmID), ticketURL: strOrNil(spec.ticketURL),
		metadata: spec.metadata, mode: spec.mode, source: "dashboard", language: "fr",
		clientToken: st.newID("", 24), createdAt: created, updatedAt: created,
		expiresAt: created.Add(20 * time.Minute), tags: spec.tags,
		closureTypeName: strOrNil(spec.closure), notes: strOrNil(spec.notes),
	}
	for range spec.sms {
		s.smsSent = append(s.smsSent, created)
	}
	switch spec.status {
	case "active", "pending":
		s.expiresAt = now.Add(15 * time.Minute).Truncate(time.Millisecond)
		if spec.status == "active" {
			s.status = "active"
			s.clientWaitingAt, s.admittedAt, s.startedAt = ptr(started), ptr(started), ptr(started)
			s.updatedAt = started
		}
	case "completed":
		s.clientWaitingAt, s.admittedAt, s.startedAt = ptr(started), ptr(started), ptr(started)
		s.end("completed", ended)
		s.agentDuration = ptr(s.durationSeconds() + 20)
		s.clientDuration = ptr(s.durationSeconds())
	default:
		s.expiresAt = ended
		s.updatedAt = ended
	}
	if spec.rating > 0 {
		s.clientRating, s.clientComment, s.ratedAt = ptr(spec.rating), strOrNil(spec.comment), ptr(ended)
	}
	for n := range spec.screenshots {
		shot := &screenshot{id: st.newID("scr_", 8), takenAt: started.Add(time.Duration(n+1) * time.Second)}
		shot.tags = []string{"defect", "serial-number"}[n%2 : n%2+1]
		if n == 0 {
			shot.location = &location{Latitude: 48.8566, Longitude: 2.3522}
		}
		s.screenshots = append(s.screenshots, shot)
	}
	for range spec.recordings {
		s.recordings = append(s.recordings, &recording{
			id: st.newID("rec_", 8), token: st.newID("", 16),
			duration: s.duration, size: ptr(15728640.0), createdAt: ended,
		})
	}
	st.sessions[s.id] = s
	o.sessions = append(o.sessions, s)
}

// durationSeconds returns the session's duration in seconds, 0 when unknown.
func (s *session) durationSeconds() float64 {
	if s.duration == nil {
		return 0
	}
	return *s.duration
}

// startOfDay returns midnight UTC of t's day.
func startOfDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
