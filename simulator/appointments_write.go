package simulator

import (
	"net/http"
	"slices"
	"time"
)

// optString is a nullable string field of a request: set with a nil value
// clears it.
type optString struct {
	value *string
	set   bool
}

// appointmentPatch holds the appointment fields of a create or update
// request, each with whether it was given.
type appointmentPatch struct {
	scheduledAt *time.Time
	duration    *int
	clientPhone optString
	clientName  optString
	clientEmail optString
	notifyBy    optString
	notes       optString
	crmID       optString
	ticketURL   optString
	metadata    map[string]any
	metadataSet bool
	// fields lists the given fields in the contract's order.
	fields []string
}

// appointmentStringFields are the string fields of create and update
// requests, in the contract's order.
var appointmentStringFields = []string{
	"clientPhone", "clientName", "clientEmail", "notifyBy", "notes", "crmId", "ticketUrl",
}

// parseAppointmentPatch reads and checks every given field of a create or
// update request; now bounds scheduledAt.
func parseAppointmentPatch(obj jsonObject, now time.Time) (appointmentPatch, *apiError) {
	var p appointmentPatch
	if obj.present("scheduledAt") {
		raw, _, err := obj.str("scheduledAt")
		if err != nil {
			return p, err
		}
		t, err := parseScheduledAt(raw, now)
		if err != nil {
			return p, err
		}
		p.scheduledAt = &t
		p.fields = append(p.fields, "scheduledAt")
	}
	if obj.present("durationMinutes") {
		d, _, err := obj.integer("durationMinutes")
		if err != nil {
			return p, invalidField("durationMinutes must be one of: 5, 10, 15, 20")
		}
		if err := oneOfInt("durationMinutes", d, slotMinutes); err != nil {
			return p, err
		}
		p.duration = &d
		p.fields = append(p.fields, "durationMinutes")
	}
	for _, name := range appointmentStringFields {
		value, set, err := obj.nullableStr(name)
		if err != nil {
			return p, err
		}
		if !set {
			continue
		}
		if err := checkAppointmentString(name, value); err != nil {
			return p, err
		}
		if name == "clientPhone" && value != nil {
			phone, _ := normalizePhone(*value)
			value = &phone
		}
		*p.stringField(name) = optString{value: value, set: true}
		p.fields = append(p.fields, name)
	}
	if obj.has("metadata") {
		p.metadataSet = true
		p.fields = append(p.fields, "metadata")
		if meta, _, err := readMetadata(obj); err != nil {
			return p, err
		} else {
			p.metadata = meta
		}
	}
	return p, nil
}

// stringField returns the patch field of a string request field.
func (p *appointmentPatch) stringField(name string) *optString {
	switch name {
	case "clientPhone":
		return &p.clientPhone
	case "clientName":
		return &p.clientName
	case "clientEmail":
		return &p.clientEmail
	case "notifyBy":
		return &p.notifyBy
	case "notes":
		return &p.notes
	case "crmId":
		return &p.crmID
	default:
		return &p.ticketURL
	}
}

// checkAppointmentString validates one string field's format.
func checkAppointmentString(name string, value *string) *apiError {
	if value == nil {
		if name == "notifyBy" {
			return invalidField("notifyBy must be one of: sms, email, both")
		}
		return nil
	}
	switch name {
	case "clientPhone":
		_, err := normalizePhone(*value)
		return err
	case "clientEmail":
		return checkEmail("clientEmail", *value)
	case "notifyBy":
		return oneOf("notifyBy", *value, notifyByValues)
	}
	return nil
}

// parseScheduledAt checks that scheduledAt is a timestamp in the future on
// a 5-minute boundary.
func parseScheduledAt(raw string, now time.Time) (time.Time, *apiError) {
	t, err := parseTimestamp("scheduledAt", raw)
	if err != nil {
		return t, err
	}
	if !t.After(now) {
		return t, badRequest(codeScheduledInPast,
			"scheduledAt %s is not in the future; choose a time after %s", formatTime(t), formatTime(now))
	}
	if t.Minute()%5 != 0 || t.Second() != 0 || t.Nanosecond() != 0 {
		return t, badRequest(codeInvalidTimeSlot,
			"scheduledAt must be aligned to a 5-minute slot (minutes 00, 05, ..., 55 and zero seconds), got %s",
			formatTime(t))
	}
	return t, nil
}

// applyTo sets the given fields on a.
func (p appointmentPatch) applyTo(a *appointment) {
	if p.scheduledAt != nil {
		a.scheduledAt = *p.scheduledAt
	}
	if p.duration != nil {
		a.durationMinutes = *p.duration
	}
	for _, f := range []struct {
		src optString
		dst **string
	}{
		{p.clientPhone, &a.clientPhone}, {p.clientName, &a.clientName},
		{p.clientEmail, &a.clientEmail}, {p.notes, &a.notes},
		{p.crmID, &a.crmID}, {p.ticketURL, &a.ticketURL},
	} {
		if f.src.set {
			*f.dst = f.src.value
		}
	}
	if p.notifyBy.set {
		a.notifyBy = *p.notifyBy.value
	}
	if p.metadataSet {
		a.metadata = p.metadata
	}
}

// checkContact enforces the contact rules of an appointment: camera needs a
// phone, screen needs an email and is notified by email, and email or both
// notifications need an email.
func checkContact(a *appointment) *apiError {
	if a.mode == "screen" {
		if a.clientEmail == nil {
			return badRequest(codeMissingField, "clientEmail is required when mode is screen")
		}
		a.notifyBy = "email"
	}
	if a.mode == "camera" && a.clientPhone == nil {
		return missingField("clientPhone")
	}
	if (a.notifyBy == "email" || a.notifyBy == "both") && a.clientEmail == nil {
		return badRequest(codeMissingField, "clientEmail is required when notifyBy is %q", a.notifyBy)
	}
	return nil
}

// checkSchedulable checks that o has scheduling and that the agent may be
// given appointments.
func checkSchedulable(o *org, agentID string) (*agent, *apiError) {
	if !o.scheduling {
		return nil, forbidden(codeSchedulingDisabled,
			"Scheduling is not enabled for this organization's plan; upgrade the plan to create appointments")
	}
	a := o.findAgent(agentID)
	switch {
	case a == nil:
		return nil, forbidden(codeAgentNotMember, "Agent is not a member of this organization")
	case a.disabled:
		return nil, forbidden(codeAgentDisabled, "Agent account is disabled")
	case a.role == "viewer":
		return nil, forbidden(codeInsufficientRole, "Agent role '%s' cannot be assigned appointments", a.role)
	}
	return a, nil
}

// checkDoubleBooking returns the 409 when the agent has another
// non-cancelled appointment overlapping a's slot.
func checkDoubleBooking(o *org, a *appointment) *apiError {
	for _, other := range o.appointments {
		if other.id == a.id || other.agentID != a.agentID || other.status == "cancelled" {
			continue
		}
		if other.overlaps(a.scheduledAt, a.durationMinutes) {
			return conflict(codeSlotConflict,
				"Agent already has appointment %s from %s to %s; choose another time (see GET /v1/appointments/available-slots)",
				other.id, formatTime(other.scheduledAt), formatTime(other.end()))
		}
	}
	return nil
}

// createAppointment serves POST /appointments.
func (s *Server) createAppointment(c *call) (reply, *apiError) {
	body, err := readBody(c.w, c.r)
	if err != nil {
		return reply{}, err
	}
	obj, err := decodeObject(body, false)
	if err != nil {
		return reply{}, err
	}
	a, err := s.newAppointmentFromRequest(obj)
	if err != nil {
		return reply{}, err
	}

	return s.locked(c, func(st *state, o *org) (reply, *apiError) {
		ag, err := checkSchedulable(o, a.agentID)
		if err != nil {
			return reply{}, err
		}
		if err := checkDoubleBooking(o, a); err != nil {
			return reply{}, err
		}
		now := s.now()
		a.id, a.orgID, a.seq, a.agentName = st.newID("apt_", 10), o.id, st.nextSeq(), ag.displayName
		a.createdAt, a.updatedAt, a.createdBy = now, now, "api:"+c.key.id
		st.appointments[a.id] = a
		o.appointments = append(o.appointments, a)
		st.trimAppointments(o)
		st.due(a.scheduledAt.Add(-reminderLead))
		s.emit(o, "appointment.created", a.createdEventData())
		s.logger(c).Info("appointment created", "appointment_id", a.id, "mode", a.mode)
		return ok(http.StatusCreated, a.toJSON())
	})
}

// newAppointmentFromRequest validates a create request into a scheduled
// appointment without ids.
func (s *Server) newAppointmentFromRequest(obj jsonObject) (*appointment, *apiError) {
	agentID, set, err := obj.str("agentId")
	if err != nil {
		return nil, err
	}
	if !set || agentID == "" {
		return nil, missingField("agentId")
	}
	for _, name := range []string{"scheduledAt", "durationMinutes"} {
		if !obj.present(name) {
			return nil, missingField(name)
		}
	}
	mode, modeSet, err := obj.str("mode")
	if err != nil {
		return nil, err
	}
	if !modeSet {
		mode = "camera"
	} else if err := oneOf("mode", mode, sessionModes); err != nil {
		return nil, err
	}
	p, err := parseAppointmentPatch(obj, s.now())
	if err != nil {
		return nil, err
	}

	a := &appointment{status: "scheduled", agentID: agentID, mode: mode, notifyBy: "sms"}
	if mode == "screen" {
		a.notifyBy = "email"
	}
	p.applyTo(a)
	if err := checkContact(a); err != nil {
		return nil, err
	}
	return a, nil
}

// trimAppointments drops the oldest appointments past
// [maxAppointmentsPerOrg], those cancelled or completed first.
func (st *state) trimAppointments(o *org) {
	for len(o.appointments) > maxAppointmentsPerOrg {
		victim := 0
		for i, a := range o.appointments {
			if a.status == "cancelled" || a.status == "completed" {
				victim = i
				break
			}
		}
		delete(st.appointments, o.appointments[victim].id)
		o.appointments = slices.Delete(o.appointments, victim, victim+1)
	}
}

// appointmentNotFound is the 404 of an unknown appointment id.
func appointmentNotFound() *apiError { return notFound("Appointment not found") }

// withAppointment runs f on the request's appointment under the state lock.
func (s *Server) withAppointment(
	c *call,
	f func(st *state, o *org, a *appointment) (reply, *apiError),
) (reply, *apiError) {
	return s.locked(c, func(st *state, o *org) (reply, *apiError) {
		a := st.appointment(o, c.id)
		if a == nil {
			return reply{}, appointmentNotFound()
		}
		return f(st, o, a)
	})
}
