package simulator

import (
	"context"
	"net/http"
	"time"
)

// Session creation defaults and limits.
const (
	defaultTTLMinutes = 20
	maxBulkSessions   = 10
	// smsFailurePhone is a phone number whose SMS always fails (500
	// SMS_FAILED), to reach that error on purpose.
	smsFailurePhone = "+15005550001"
)

// sessionInput is a validated CreateSessionRequest or BulkSessionInput.
type sessionInput struct {
	agentID     string
	clientPhone string // "" when absent
	clientName  *string
	clientEmail *string
	crmID       *string
	ticketURL   *string
	metadata    map[string]any
	mode        string
	sendSMS     bool
	language    string
	ttlMinutes  int
	tags        []string
}

// parseSessionInput validates one session request body. Bulk items always
// use camera mode and carry no clientEmail.
func parseSessionInput(o jsonObject, bulk bool) (sessionInput, *apiError) {
	in := sessionInput{mode: "camera", sendSMS: true, language: "fr", ttlMinutes: defaultTTLMinutes}
	if !bulk {
		mode, set, err := o.str("mode")
		if err != nil {
			return in, err
		}
		if set {
			if err := oneOf("mode", mode, sessionModes); err != nil {
				return in, err
			}
			in.mode = mode
		}
	}

	phone, hasPhone, err := o.str("clientPhone")
	switch {
	case err != nil:
		return in, err
	case !hasPhone && in.mode == "camera":
		return in, missingField("clientPhone")
	case hasPhone:
		if in.clientPhone, err = normalizePhone(phone); err != nil {
			return in, err
		}
	}

	agentID, set, err := o.str("agentId")
	if err != nil {
		return in, err
	}
	if !set || agentID == "" {
		return in, missingField("agentId")
	}
	in.agentID = agentID

	if err := in.readOptional(o, bulk); err != nil {
		return in, err
	}
	if in.mode == "screen" {
		in.sendSMS = false
	}
	return in, nil
}

// readOptional reads the optional fields of a session request.
func (in *sessionInput) readOptional(o jsonObject, bulk bool) *apiError {
	for _, field := range []struct {
		name string
		dst  **string
	}{
		{"clientName", &in.clientName}, {"crmId", &in.crmID}, {"ticketUrl", &in.ticketURL},
	} {
		v, set, err := o.str(field.name)
		if err != nil {
			return err
		}
		if set {
			*field.dst = ptr(v)
		}
	}
	if !bulk {
		email, set, err := o.str("clientEmail")
		if err != nil {
			return err
		}
		if set {
			if err := checkEmail("clientEmail", email); err != nil {
				return err
			}
			in.clientEmail = ptr(email)
		}
	}

	if send, set, err := o.boolean("sendSms"); err != nil {
		return err
	} else if set {
		in.sendSMS = send
	}
	if lang, set, err := o.str("language"); err != nil {
		return err
	} else if set {
		if err := oneOf("language", lang, languages); err != nil {
			return err
		}
		in.language = lang
	}
	if ttl, set, err := o.integer("ttlMinutes"); err != nil {
		return invalidField("ttlMinutes must be one of: 5, 10, 15, 20")
	} else if set {
		if err := oneOfInt("ttlMinutes", ttl, slotMinutes); err != nil {
			return err
		}
		in.ttlMinutes = ttl
	}

	meta, _, err := readMetadata(o)
	if err != nil {
		return err
	}
	in.metadata = meta
	tags, _, err := o.strList("sessionTags")
	if err != nil {
		return err
	}
	in.tags = tags
	return nil
}

// checkSessionAgent checks that the agent may run sessions.
func checkSessionAgent(o *org, agentID string) (*agent, *apiError) {
	a := o.findAgent(agentID)
	switch {
	case a == nil:
		return nil, forbidden(codeAgentNotMember, "Agent is not a member of this organization")
	case a.disabled:
		return nil, forbidden(codeAgentDisabled, "Agent account is disabled")
	case a.role == "viewer":
		return nil, forbidden(codeInsufficientRole, "Agent role '%s' cannot create sessions", a.role)
	}
	return a, nil
}

// insufficientCredits returns the 402 of an organization without credits.
func insufficientCredits() *apiError {
	return newError(http.StatusPaymentRequired, codeInsufficientCredits, "Insufficient credits")
}

// smsOutcome decides whether the session's invitation SMS is sent, or
// returns the 500 of an organization without SMS or of the failing number.
func smsOutcome(o *org, in sessionInput) (smsJSON, *apiError) {
	if in.mode != "camera" || !in.sendSMS || in.clientPhone == "" {
		return smsJSON{Status: "skipped"}, nil
	}
	if !o.smsConfigured {
		return smsJSON{}, newError(http.StatusInternalServerError, codeSMSNotConfigured,
			"SMS is not configured for this organization")
	}
	if in.clientPhone == smsFailurePhone {
		return smsJSON{}, newError(http.StatusInternalServerError, codeSMSFailed, "Failed to send SMS")
	}
	return smsJSON{Status: "sent", To: in.clientPhone}, nil
}

// createOne validates the agent, the credits and the SMS of in, then
// creates the session and spends one credit.
func (s *Server) createOne(st *state, o *org, in sessionInput, now time.Time) (*session, smsJSON, *apiError) {
	a, err := checkSessionAgent(o, in.agentID)
	if err != nil {
		return nil, smsJSON{}, err
	}
	if o.credits.available() == 0 {
		return nil, smsJSON{}, insufficientCredits()
	}
	sms, err := smsOutcome(o, in)
	if err != nil {
		return nil, smsJSON{}, err
	}

	o.credits.take()
	sess := st.addSession(o, a, in, "api", now)
	if sms.Status == "sent" {
		sess.smsSent = append(sess.smsSent, now)
	}
	return sess, sms, nil
}

// addSession stores a new pending session.
func (st *state) addSession(o *org, a *agent, in sessionInput, source string, now time.Time) *session {
	sess := &session{
		id: st.newID("", 12), orgID: o.id, seq: st.nextSeq(), status: "pending",
		agentID: a.id, agentName: ptr(a.displayName),
		clientPhone: in.clientPhone, clientName: in.clientName, clientEmail: in.clientEmail,
		crmID: in.crmID, ticketURL: in.ticketURL, metadata: in.metadata,
		mode: in.mode, source: source, language: in.language,
		clientToken: st.newID("", 24),
		createdAt:   now, updatedAt: now,
		expiresAt: now.Add(time.Duration(in.ttlMinutes) * time.Minute),
		tags:      emptyIfNil(in.tags),
	}
	st.sessions[sess.id] = sess
	o.sessions = append(o.sessions, sess)
	st.due(sess.expiresAt)
	st.trimSessions(o)
	return sess
}

// trimSessions drops the oldest sessions past [maxSessionsPerOrg], those
// in a final status first.
func (st *state) trimSessions(o *org) {
	for len(o.sessions) > maxSessionsPerOrg {
		victim := 0
		for i, sess := range o.sessions {
			if sess.final() {
				victim = i
				break
			}
		}
		delete(st.sessions, o.sessions[victim].id)
		o.sessions = append(o.sessions[:victim], o.sessions[victim+1:]...)
	}
}

// createSession serves POST /sessions.
func (s *Server) createSession(c *call) (reply, *apiError) {
	body, err := readBody(c.w, c.r)
	if err != nil {
		return reply{}, err
	}
	obj, err := decodeObject(body, false)
	if err != nil {
		return reply{}, err
	}
	in, err := parseSessionInput(obj, false)
	if err != nil {
		return reply{}, err
	}
	return s.idempotent(c, "POST /v1/sessions", func(st *state, o *org, now time.Time) (int, any, *apiError) {
		sess, sms, err := s.createOne(st, o, in, now)
		if err != nil {
			return 0, nil, err
		}
		s.emit(o, "session.created", sessionCreatedEvent(sess, createdByAPI))
		s.logger(c).Info("session created", "session_id", sess.id, "mode", sess.mode, "sms", sms.Status)
		return http.StatusCreated, sess.createdJSON(sms), nil
	})
}

// idempotent runs create under the request's idempotency key. A completed
// key replays its stored response for 24 hours and a key still in flight
// gets the 409. Other requests wait the configured create delay, then
// create runs under the state lock.
func (s *Server) idempotent(
	c *call,
	operation string,
	create func(st *state, o *org, now time.Time) (int, any, *apiError),
) (reply, *apiError) {
	key, err := idempotencyKey(c.r)
	if err != nil {
		return reply{}, err
	}
	k := idemKey{orgID: c.org.id, key: key}

	s.mu.Lock()
	store := s.st.idempotency
	if key != "" {
		stored, err := store.begin(k, operation, s.now())
		if err != nil || stored != nil {
			s.mu.Unlock()
			if err != nil {
				return reply{}, err
			}
			return reply{status: stored.status, raw: stored.body,
				header: http.Header{"Idempotent-Replayed": {"true"}}}, nil
		}
	}
	delay := s.createDelay
	s.mu.Unlock()

	waited := delay <= 0 || s.wait(c.r.Context(), delay)

	s.mu.Lock()
	defer s.mu.Unlock()
	if !waited {
		store.release(k)
		return reply{}, newError(http.StatusServiceUnavailable, codeInternal,
			"The request was cancelled while waiting for the configured create delay")
	}
	o := s.st.orgs[c.org.id]
	if o == nil {
		store.release(k)
		return reply{}, newError(http.StatusNotFound, codeOrgNotFound, "Organization not found")
	}
	now := s.now()
	status, data, apiErr := create(s.st, o, now)
	if apiErr != nil {
		store.release(k)
		return reply{}, apiErr
	}
	body := encodeJSON(envelope{Data: data})
	if key != "" {
		store.finish(k, status, body, now)
		s.st.due(now.Add(idempotencyTTL))
	}
	return reply{status: status, raw: body}, nil
}

// wait blocks for d on the clock and reports whether it elapsed before the
// request ended or the server closed.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	timer := s.clock.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.Chan():
		return true
	case <-ctx.Done():
		return false
	case <-s.stop:
		return false
	}
}
