package simulator

import (
	"maps"
	"time"
)

// reminderLead is how long before scheduledAt the client is notified and
// the appointment's session (lobby) is created.
const reminderLead = 5 * time.Minute

// lobbyGrace is how long a scheduled session stays open after the
// appointment's planned end.
const lobbyGrace = 10 * time.Minute

// appointment is a scheduled video session.
type appointment struct {
	id, orgID string
	seq       int64
	status    string

	agentID, agentName string
	clientPhone        *string
	clientName         *string
	clientEmail        *string
	scheduledAt        time.Time
	durationMinutes    int
	notifyBy, mode     string
	crmID, ticketURL   *string
	metadata           map[string]any
	notes              *string

	lobbyID            *string
	notifiedAt         *time.Time
	cancelledAt        *time.Time
	cancellationReason *string
	cancelledBy        *string
	createdAt          time.Time
	updatedAt          time.Time
	createdBy          string
}

// end returns when the appointment's slot ends.
func (a *appointment) end() time.Time {
	return a.scheduledAt.Add(time.Duration(a.durationMinutes) * time.Minute)
}

// overlaps reports whether the slot [start, start+minutes) overlaps a's.
func (a *appointment) overlaps(start time.Time, minutes int) bool {
	end := start.Add(time.Duration(minutes) * time.Minute)
	return a.scheduledAt.Before(end) && start.Before(a.end())
}

// clone returns a copy that shares no pointers or maps with a.
func (a *appointment) clone() *appointment {
	c := *a
	c.metadata = maps.Clone(a.metadata)
	return &c
}

// appointmentJSON is the contract's Appointment object.
type appointmentJSON struct {
	ID                 string         `json:"id"`
	Status             string         `json:"status"`
	AgentID            string         `json:"agentId"`
	AgentName          string         `json:"agentName"`
	OrganizationID     string         `json:"organizationId"`
	ClientPhone        *string        `json:"clientPhone"`
	ClientName         *string        `json:"clientName"`
	ClientEmail        *string        `json:"clientEmail"`
	ScheduledAt        stamp          `json:"scheduledAt"`
	DurationMinutes    int            `json:"durationMinutes"`
	NotifyBy           string         `json:"notifyBy"`
	Mode               string         `json:"mode"`
	CrmID              *string        `json:"crmId"`
	TicketURL          *string        `json:"ticketUrl"`
	Metadata           map[string]any `json:"metadata"`
	Notes              *string        `json:"notes"`
	LobbyID            *string        `json:"lobbyId"`
	NotifiedAt         *stamp         `json:"notifiedAt"`
	CancelledAt        *stamp         `json:"cancelledAt"`
	CancellationReason *string        `json:"cancellationReason"`
	CancelledBy        *string        `json:"cancelledBy"`
	CreatedAt          stamp          `json:"createdAt"`
	UpdatedAt          stamp          `json:"updatedAt"`
	CreatedBy          string         `json:"createdBy"`
}

// toJSON returns the full Appointment object.
func (a *appointment) toJSON() appointmentJSON {
	return appointmentJSON{
		ID: a.id, Status: a.status, AgentID: a.agentID, AgentName: a.agentName,
		OrganizationID: a.orgID, ClientPhone: a.clientPhone, ClientName: a.clientName,
		ClientEmail: a.clientEmail, ScheduledAt: stamp(a.scheduledAt),
		DurationMinutes: a.durationMinutes, NotifyBy: a.notifyBy, Mode: a.mode,
		CrmID: a.crmID, TicketURL: a.ticketURL, Metadata: cloneMetadata(a.metadata),
		Notes: a.notes, LobbyID: a.lobbyID, NotifiedAt: stampPtr(a.notifiedAt),
		CancelledAt: stampPtr(a.cancelledAt), CancellationReason: a.cancellationReason,
		CancelledBy: a.cancelledBy, CreatedAt: stamp(a.createdAt), UpdatedAt: stamp(a.updatedAt),
		CreatedBy: a.createdBy,
	}
}

// appointmentUpdatedJSON is the appointment.updated payload of a PATCH: the
// full appointment and the changed fields.
type appointmentUpdatedJSON struct {
	appointmentJSON
	UpdatedFields []string `json:"updatedFields"`
}

// createdEventData returns the appointment.created payload.
func (a *appointment) createdEventData() map[string]any {
	return map[string]any{
		"id": a.id, "organizationId": a.orgID, "status": a.status,
		"agentId": a.agentID, "agentName": a.agentName,
		"clientPhone": a.clientPhone, "clientName": a.clientName, "clientEmail": a.clientEmail,
		"crmId": a.crmID, "ticketUrl": a.ticketURL, "scheduledAt": stamp(a.scheduledAt),
		"durationMinutes": a.durationMinutes, "notifyBy": a.notifyBy, "mode": a.mode,
		"notes": a.notes, "metadata": cloneMetadata(a.metadata),
		"createdAt": stamp(a.createdAt), "createdBy": a.createdBy, "updatedAt": stamp(a.updatedAt),
	}
}

// lobbyEventData returns the appointment.updated payload of lobby creation.
func (a *appointment) lobbyEventData(sess *session) map[string]any {
	return map[string]any{
		"id": a.id, "status": a.status, "lobbyId": a.lobbyID, "mode": a.mode,
		"agentId": a.agentID, "agentName": a.agentName,
		"clientPhone": a.clientPhone, "clientName": a.clientName,
		"crmId": a.crmID, "ticketUrl": a.ticketURL, "metadata": cloneMetadata(a.metadata),
		"clientUrl": sess.clientURL(), "agentUrl": sess.agentURL(),
		"updatedFields": []string{"status", "notifiedAt", "lobbyId"},
		"updatedAt":     stamp(a.updatedAt),
	}
}

// cancelledEventData returns the appointment.cancelled payload.
func (a *appointment) cancelledEventData(previous string) map[string]any {
	return map[string]any{
		"id": a.id, "status": a.status, "agentId": a.agentID, "agentName": a.agentName,
		"clientPhone": a.clientPhone, "clientName": a.clientName, "clientEmail": a.clientEmail,
		"crmId": a.crmID, "ticketUrl": a.ticketURL, "metadata": cloneMetadata(a.metadata),
		"scheduledAt": stamp(a.scheduledAt), "durationMinutes": a.durationMinutes,
		"mode": a.mode, "previousStatus": previous, "cancellationReason": a.cancellationReason,
		"lobbyId": a.lobbyID, "cancelledAt": stampPtr(a.cancelledAt),
	}
}

// cancelResponseJSON is the contract's AppointmentCancelResponse.
type cancelResponseJSON struct {
	ID                 string         `json:"id"`
	Status             string         `json:"status"`
	CrmID              *string        `json:"crmId"`
	Metadata           map[string]any `json:"metadata"`
	CancellationReason *string        `json:"cancellationReason"`
	Mode               string         `json:"mode"`
	LobbyID            *string        `json:"lobbyId"`
	CancelledAt        stamp          `json:"cancelledAt"`
}
