package simulator

import (
	"net/http"
	"time"
)

// updateAppointment serves PATCH /appointments/{id}: only the given fields
// change, and a new time is checked for double booking again.
func (s *Server) updateAppointment(c *call) (reply, *apiError) {
	body, err := readBody(c.w, c.r)
	if err != nil {
		return reply{}, err
	}
	obj, err := decodeObject(body, false)
	if err != nil {
		return reply{}, err
	}
	p, err := parseAppointmentPatch(obj, s.now())
	if err != nil {
		return reply{}, err
	}
	if len(p.fields) == 0 {
		return reply{}, badRequest(codeMissingField,
			"At least one field is required: scheduledAt, durationMinutes, clientPhone, clientName, "+
				"clientEmail, notifyBy, notes, crmId, ticketUrl, metadata")
	}

	return s.withAppointment(c, func(st *state, o *org, a *appointment) (reply, *apiError) {
		switch a.status {
		case "completed", "cancelled":
			return reply{}, conflict(codeInvalidStatus, "Cannot update a %s appointment", a.status)
		case "lobby_created":
			return reply{}, conflict(codeInvalidStatus,
				"Cannot update an appointment whose session (lobby %s) is already created", deref(a.lobbyID))
		}
		next := a.clone()
		p.applyTo(next)
		if err := checkContact(next); err != nil {
			return reply{}, err
		}
		if p.scheduledAt != nil || p.duration != nil {
			if err := checkDoubleBooking(o, next); err != nil {
				return reply{}, err
			}
		}
		next.updatedAt = s.now()
		*a = *next
		st.due(a.scheduledAt.Add(-reminderLead))
		s.emit(o, "appointment.updated", appointmentUpdatedJSON{
			appointmentJSON: a.toJSON(), UpdatedFields: p.fields,
		})
		return ok(http.StatusOK, a.toJSON())
	})
}

// deref returns *p, or "" for nil.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// cancelAppointment serves POST /appointments/{id}/cancel and cancels the
// appointment's session when it is still pending.
func (s *Server) cancelAppointment(c *call) (reply, *apiError) {
	body, err := readBody(c.w, c.r)
	if err != nil {
		return reply{}, err
	}
	obj, err := decodeObject(body, true)
	if err != nil {
		return reply{}, err
	}
	reason, _, err := obj.str("reason")
	if err != nil {
		return reply{}, err
	}

	return s.withAppointment(c, func(st *state, o *org, a *appointment) (reply, *apiError) {
		switch a.status {
		case "completed":
			return reply{}, conflict(codeInvalidStatus, "Cannot cancel a completed appointment")
		case "cancelled":
			return reply{}, conflict(codeInvalidStatus, "Appointment is already cancelled")
		}
		now := s.now()
		previous := a.status
		a.status, a.cancelledAt, a.updatedAt = "cancelled", ptr(now), now
		a.cancellationReason, a.cancelledBy = strOrNil(reason), ptr("api:"+c.key.id)
		if a.lobbyID != nil {
			if sess := st.session(o, *a.lobbyID); sess != nil && sess.status == "pending" {
				s.cancelPending(o, sess, now)
			}
		}
		s.emit(o, "appointment.cancelled", a.cancelledEventData(previous))
		return ok(http.StatusOK, cancelResponseJSON{
			ID: a.id, Status: a.status, CrmID: a.crmID, Metadata: cloneMetadata(a.metadata),
			CancellationReason: a.cancellationReason, Mode: a.mode, LobbyID: a.lobbyID,
			CancelledAt: stamp(now),
		})
	})
}

// completeAppointment marks the appointment of a completed session as
// completed and sends appointment.updated.
func (s *Server) completeAppointment(st *state, o *org, sess *session, now time.Time) {
	if sess.appointmentID == nil {
		return
	}
	a := st.appointment(o, *sess.appointmentID)
	if a == nil || a.status != "lobby_created" {
		return
	}
	a.status, a.updatedAt = "completed", now
	s.emit(o, "appointment.updated", appointmentUpdatedJSON{
		appointmentJSON: a.toJSON(), UpdatedFields: []string{"status"},
	})
}

// createLobby notifies the client of a due appointment and creates its
// session: source scheduled, with the appointment's client, CRM fields and
// mode. The session takes a credit when one is left; an organization
// without credits still gets it, because a reminder cannot be refused.
func (s *Server) createLobby(st *state, o *org, a *appointment, now time.Time) {
	a.status, a.notifiedAt = "notified", ptr(now)
	ag := o.findAgent(a.agentID)
	if ag == nil {
		ag = &agent{id: a.agentID, displayName: a.agentName}
	}
	in := sessionInput{
		agentID: a.agentID, clientPhone: deref(a.clientPhone), clientName: a.clientName,
		clientEmail: a.clientEmail, crmID: a.crmID, ticketURL: a.ticketURL,
		metadata: cloneMetadata(a.metadata), mode: a.mode, language: "fr",
		sendSMS: a.notifyBy != "email", ttlMinutes: defaultTTLMinutes,
	}
	sess := st.addSession(o, ag, in, "scheduled", now)
	sess.expiresAt = a.end().Add(lobbyGrace)
	if sess.expiresAt.Before(now) {
		sess.expiresAt = now
	}
	st.due(sess.expiresAt)
	sess.appointmentID = ptr(a.id)
	o.credits.take()
	if sms, err := smsOutcome(o, in); err == nil && sms.Status == "sent" {
		sess.smsSent = append(sess.smsSent, now)
	}

	a.status, a.lobbyID, a.updatedAt = "lobby_created", ptr(sess.id), now
	s.emit(o, "session.created", sessionCreatedEvent(sess, createdByAppointment))
	s.emit(o, "appointment.updated", a.lobbyEventData(sess))
	s.log.Info("appointment lobby created", "org_id", o.id, "appointment_id", a.id, "session_id", sess.id)
}
