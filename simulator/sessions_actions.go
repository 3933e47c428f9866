package simulator

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// Agent auth URL limits.
const (
	authURLLifetime  = 5 * time.Minute
	authURLsPerHour  = 5
	authURLRateSpan  = time.Hour
	authURLPathToken = "/api/auth/agent-token?token="
)

// finalStatusError returns the 409 of a session already in a final status.
func finalStatusError(status string) *apiError {
	switch status {
	case "completed":
		return conflict(codeInvalidStatus, "Session is already completed")
	case "cancelled":
		return conflict(codeInvalidStatus, "Session is already cancelled")
	default:
		return conflict(codeInvalidStatus, "Session has already expired")
	}
}

// closureChange is a requested change of closureTypeName and notes.
type closureChange struct {
	closure, notes       *string
	closureSet, notesSet bool
}

// readClosureChange reads the nullable closureTypeName and notes fields.
func readClosureChange(obj jsonObject) (closureChange, *apiError) {
	var ch closureChange
	var err *apiError
	if ch.closure, ch.closureSet, err = obj.nullableStr("closureTypeName"); err != nil {
		return ch, err
	}
	if ch.notes, ch.notesSet, err = obj.nullableStr("notes"); err != nil {
		return ch, err
	}
	return ch, nil
}

// check validates the change against the organization's closure types: the
// type must exist, and a type that requires a comment needs notes.
func (ch closureChange) check(o *org, sess *session) *apiError {
	closure, notes := sess.closureTypeName, sess.notes
	if ch.closureSet {
		closure = ch.closure
	}
	if ch.notesSet {
		notes = ch.notes
	}
	if closure == nil {
		return nil
	}
	ct := o.findClosureType(*closure)
	if ct == nil {
		return badRequest(codeInvalidClosureType, "Closure type %q not found", *closure)
	}
	if ct.requireComment && (notes == nil || *notes == "") {
		return badRequest(codeNotesRequired,
			"Closure type %q requires notes; send notes with the closure type", ct.name)
	}
	return nil
}

// apply sets the changed fields on the session.
func (ch closureChange) apply(sess *session) {
	if ch.closureSet {
		sess.closureTypeName = ch.closure
	}
	if ch.notesSet {
		sess.notes = ch.notes
	}
}

// updateSession serves PATCH /sessions/{id}: notes, sessionTags and
// closureTypeName, at least one of them; null clears notes and the closure.
func (s *Server) updateSession(c *call) (reply, *apiError) {
	body, err := readBody(c.w, c.r)
	if err != nil {
		return reply{}, err
	}
	obj, err := decodeObject(body, false)
	if err != nil {
		return reply{}, err
	}
	ch, err := readClosureChange(obj)
	if err != nil {
		return reply{}, err
	}
	tags, tagsSet, err := obj.strList("sessionTags")
	if err != nil {
		return reply{}, err
	}
	if obj.isNull("sessionTags") {
		tags, tagsSet = []string{}, true
	}
	if !ch.notesSet && !tagsSet && !ch.closureSet {
		return reply{}, badRequest(codeMissingField,
			"At least one field is required: notes, sessionTags, closureTypeName")
	}

	return s.withSession(c, func(st *state, o *org, sess *session) (reply, *apiError) {
		if err := ch.check(o, sess); err != nil {
			return reply{}, err
		}
		var fields []string
		if ch.notesSet {
			fields = append(fields, "notes")
		}
		if tagsSet {
			sess.tags = tags
			fields = append(fields, "sessionTags")
		}
		if ch.closureSet {
			fields = append(fields, "closureTypeName")
		}
		ch.apply(sess)
		sess.updatedAt = s.now()
		s.emit(o, "session.updated", updatedEvent(sess, fields))
		return ok(http.StatusOK, sess.toJSON())
	})
}

// cancelSession serves POST /sessions/{id}/cancel: pending sessions only.
func (s *Server) cancelSession(c *call) (reply, *apiError) {
	return s.withSession(c, func(st *state, o *org, sess *session) (reply, *apiError) {
		switch sess.status {
		case "pending":
		case "active":
			return reply{}, conflict(codeInvalidStatus, "Cannot cancel an active session. End it instead.")
		default:
			return reply{}, finalStatusError(sess.status)
		}
		s.cancelPending(o, sess, s.now())
		return ok(http.StatusOK, sess.toJSON())
	})
}

// cancelPending cancels a pending session and sends session.cancelled.
func (s *Server) cancelPending(o *org, sess *session, now time.Time) {
	sess.status = "cancelled"
	sess.updatedAt = now
	s.emit(o, "session.cancelled", cancelledEvent(sess, "pending"))
}

// endSession serves POST /sessions/{id}/end for active and pending sessions.
func (s *Server) endSession(c *call) (reply, *apiError) {
	body, err := readBody(c.w, c.r)
	if err != nil {
		return reply{}, err
	}
	obj, err := decodeObject(body, true)
	if err != nil {
		return reply{}, err
	}
	ch, err := readClosureChange(obj)
	if err != nil {
		return reply{}, err
	}
	agentDuration, err := durationField(obj, "agentDuration")
	if err != nil {
		return reply{}, err
	}
	clientDuration, err := durationField(obj, "clientDuration")
	if err != nil {
		return reply{}, err
	}

	return s.withSession(c, func(st *state, o *org, sess *session) (reply, *apiError) {
		if sess.final() {
			return reply{}, finalStatusError(sess.status)
		}
		if err := ch.check(o, sess); err != nil {
			return reply{}, err
		}
		ch.apply(sess)
		if agentDuration != nil {
			sess.agentDuration = agentDuration
		}
		if clientDuration != nil {
			sess.clientDuration = clientDuration
		}
		s.complete(st, o, sess, s.now())
		return ok(http.StatusOK, sess.toJSON())
	})
}

// complete ends the session as completed at t, sends session.completed and
// completes its appointment.
func (s *Server) complete(st *state, o *org, sess *session, t time.Time) {
	sess.end("completed", t)
	s.emit(o, "session.completed", completedEvent(sess))
	s.completeAppointment(st, o, sess, t)
}

// durationField reads an optional non-negative number of seconds.
func durationField(obj jsonObject, name string) (*float64, *apiError) {
	v, set, err := obj.number(name)
	if err != nil {
		return nil, err
	}
	if !set {
		return nil, nil
	}
	if v < 0 || math.IsInf(v, 0) {
		return nil, invalidField("%s must be a number of seconds, 0 or more, got %v", name, v)
	}
	return &v, nil
}

// resendJSON is the data of POST /sessions/{id}/resend-sms.
type resendJSON struct {
	sessionJSON
	SMSCount int     `json:"smsCount"`
	MaxSMS   int     `json:"maxSms"`
	SMS      smsJSON `json:"sms"`
}

// resendSMS serves POST /sessions/{id}/resend-sms for pending camera
// sessions, within the organization's maxSmsPerSession.
func (s *Server) resendSMS(c *call) (reply, *apiError) {
	return s.withSession(c, func(st *state, o *org, sess *session) (reply, *apiError) {
		if sess.status != "pending" {
			return reply{}, conflict(codeInvalidStatus,
				"Cannot resend SMS for a session with status %q; only pending sessions can be invited again",
				sess.status)
		}
		if sess.mode != "camera" || sess.clientPhone == "" {
			return reply{}, conflict(codeSMSNotApplicable,
				"Session %s has no client phone number (mode %s); SMS invitations need a camera session with clientPhone",
				sess.id, sess.mode)
		}
		maxSMS := o.features.MaxSMSPerSession
		if maxSMS > 0 && len(sess.smsSent) >= maxSMS {
			return reply{}, newError(http.StatusTooManyRequests, codeSMSLimitReached,
				"SMS limit reached for this session")
		}
		sms, err := smsOutcome(o, sessionInput{mode: "camera", sendSMS: true, clientPhone: sess.clientPhone})
		if err != nil {
			return reply{}, err
		}
		now := s.now()
		sess.smsSent = append(sess.smsSent, now)
		sess.updatedAt = now
		return ok(http.StatusOK, resendJSON{
			sessionJSON: sess.toJSON(), SMSCount: len(sess.smsSent), MaxSMS: maxSMS, SMS: sms,
		})
	})
}

// agentAuthURL serves POST /sessions/{id}/agent-auth-url: a 5-minute
// single-use login link, at most 5 per session per hour.
func (s *Server) agentAuthURL(c *call) (reply, *apiError) {
	return s.withSession(c, func(st *state, o *org, sess *session) (reply, *apiError) {
		if sess.status != "pending" && sess.status != "active" {
			return reply{}, badRequest(codeInvalidStatus,
				"Cannot generate auth URL for session with status %q", sess.status)
		}
		now := s.now()
		recent := sess.authURLs[:0]
		for _, t := range sess.authURLs {
			if now.Before(t.Add(authURLRateSpan)) {
				recent = append(recent, t)
			}
		}
		sess.authURLs = recent
		if len(recent) >= authURLsPerHour {
			wait := int(math.Ceil(recent[0].Add(authURLRateSpan).Sub(now).Seconds()))
			return reply{}, newError(http.StatusTooManyRequests, codeTokenRateLimited,
				"Rate limit: max 5 auth URLs per session per hour").
				withHeader("Retry-After", strconv.Itoa(max(wait, 1)))
		}
		sess.authURLs = append(sess.authURLs, now)
		return ok(http.StatusCreated, map[string]any{
			"authUrl":   appBaseURL + authURLPathToken + st.newID("aat_", 32),
			"agentUrl":  sess.agentURL(),
			"expiresAt": stamp(now.Add(authURLLifetime)),
			"lobbyId":   sess.id,
		})
	})
}
