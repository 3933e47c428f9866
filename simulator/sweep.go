package simulator

import "time"

// farFuture is nextDue when no transition is pending.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Sweep runs the transitions that are due on the clock: appointment
// reminders and lobby creation, session expiry, idempotency expiry and
// subscription credit resets. Requests run it first; call it after moving
// a fake clock when no request follows.
func (s *Server) Sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(s.now())
}

// sweepLocked runs the due transitions at now, doing nothing before the
// earliest known due time.
func (s *Server) sweepLocked(now time.Time) {
	st := s.st
	if !st.nextDue.IsZero() && now.Before(st.nextDue) {
		return
	}
	next := farFuture
	for _, o := range st.orgOrder {
		next = earliest(next, s.sweepAppointments(st, o, now))
		next = earliest(next, s.sweepSessions(st, o, now))
		next = earliest(next, sweepCredits(o, now))
	}
	if t := st.idempotency.expire(now); !t.IsZero() {
		next = earliest(next, t)
	}
	st.nextDue = next
}

// earliest returns the earlier of two times.
func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// sweepAppointments creates the sessions of appointments whose reminder is
// due and returns the next reminder time.
func (s *Server) sweepAppointments(st *state, o *org, now time.Time) time.Time {
	next := farFuture
	for _, a := range o.appointments {
		if a.status != "scheduled" && a.status != "notified" {
			continue
		}
		due := a.scheduledAt.Add(-reminderLead)
		if now.Before(due) {
			next = earliest(next, due)
			continue
		}
		s.createLobby(st, o, a, now)
	}
	return next
}

// sweepSessions ends the pending and active sessions whose expiresAt has
// passed, completed when anyone connected and expired otherwise, and
// returns the next expiry.
func (s *Server) sweepSessions(st *state, o *org, now time.Time) time.Time {
	next := farFuture
	for _, sess := range o.sessions {
		if sess.final() {
			continue
		}
		if now.Before(sess.expiresAt) {
			next = earliest(next, sess.expiresAt)
			continue
		}
		if sess.hadConnection() {
			s.complete(st, o, sess, sess.expiresAt)
			sess.updatedAt = now
			continue
		}
		sess.status = "expired"
		sess.updatedAt = now
		s.emit(o, "session.expired", expiredEvent(sess))
	}
	return next
}

// sweepCredits refills subscription credits at resetsAt and returns the
// next reset.
func sweepCredits(o *org, now time.Time) time.Time {
	c := &o.credits
	if c.resetsAt == nil {
		return farFuture
	}
	if !now.Before(*c.resetsAt) {
		c.subscriptionRemaining = c.subscriptionQuota
		c.resetsAt = ptr(startOfNextMonth(now))
	}
	return *c.resetsAt
}
