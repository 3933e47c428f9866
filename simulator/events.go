package simulator

import (
	"slices"

	"github.com/groundcam/groundcam-gateway/simulator/webhook"
)

// Webhook event types of the contract.
var webhookEvents = []string{
	"session.created", "session.client_waiting", "session.active", "session.completed",
	"session.rated", "session.cancelled", "session.expired", "session.updated",
	"session.deleted", "appointment.created", "appointment.updated", "appointment.cancelled",
}

// createdVia names the three session.created payload variants.
type createdVia int

const (
	createdByAPI createdVia = iota
	createdByBulk
	createdByAppointment
)

// emit sends the event to every active webhook of o subscribed to it; data
// must encode to a JSON object. The state lock is held; the dispatcher
// delivers in the background.
func (s *Server) emit(o *org, event string, data any) {
	for _, wh := range o.webhooks {
		if wh.active && slices.Contains(wh.events, event) {
			s.hooks.Send(webhook.Target{WebhookID: wh.id, URL: wh.url, Secret: wh.secret}, event, data)
		}
	}
}

// sessionCreatedEvent returns the session.created payload of the variant.
func sessionCreatedEvent(sess *session, via createdVia) map[string]any {
	data := map[string]any{
		"id": sess.id, "status": sess.status, "agentId": sess.agentID, "agentName": sess.agentName,
		"clientPhone": sess.clientPhone, "clientName": sess.clientName,
		"clientUrl": sess.clientURL(), "agentUrl": sess.agentURL(),
		"crmId": sess.crmID, "ticketUrl": sess.ticketURL, "metadata": cloneMetadata(sess.metadata),
		"source": sess.source, "createdAt": stamp(sess.createdAt), "expiresAt": stamp(sess.expiresAt),
	}
	switch via {
	case createdByAPI:
		data["clientEmail"] = sess.clientEmail
		data["sessionTags"] = slices.Clone(emptyIfNil(sess.tags))
		data["mode"] = sess.mode
	case createdByBulk:
		data["sessionTags"] = slices.Clone(emptyIfNil(sess.tags))
	case createdByAppointment:
		data["mode"] = sess.mode
		data["appointmentId"] = sess.appointmentID
	}
	return data
}

// sessionEvent returns the fields most session events share.
func sessionEvent(sess *session) map[string]any {
	return map[string]any{
		"id": sess.id, "status": sess.status, "agentId": sess.agentID,
		"appointmentId": sess.appointmentID,
	}
}

// withCRM adds crmId, ticketUrl and metadata to an event payload.
func withCRM(data map[string]any, sess *session) map[string]any {
	data["crmId"] = sess.crmID
	data["ticketUrl"] = sess.ticketURL
	data["metadata"] = cloneMetadata(sess.metadata)
	return data
}

// clientWaitingEvent returns the session.client_waiting payload.
func clientWaitingEvent(sess *session) map[string]any {
	data := sessionEvent(sess)
	data["clientName"] = sess.clientName
	data["clientWaitingAt"] = stampPtr(sess.clientWaitingAt)
	return data
}

// activeEvent returns the session.active payload.
func activeEvent(sess *session) map[string]any {
	data := sessionEvent(sess)
	data["agentName"] = sess.agentName
	data["clientName"] = sess.clientName
	data["startedAt"] = stampPtr(sess.startedAt)
	return data
}

// completedEvent returns the session.completed payload.
func completedEvent(sess *session) map[string]any {
	data := withCRM(sessionEvent(sess), sess)
	data["agentName"] = sess.agentName
	data["clientName"] = sess.clientName
	data["duration"] = sess.duration
	data["agentDuration"] = sess.agentDuration
	data["clientDuration"] = sess.clientDuration
	data["closureTypeName"] = sess.closureTypeName
	data["notes"] = sess.notes
	data["sessionTags"] = slices.Clone(emptyIfNil(sess.tags))
	data["completedAt"] = stampPtr(sess.endedAt)
	return data
}

// ratedEvent returns the session.rated payload.
func ratedEvent(sess *session) map[string]any {
	data := withCRM(sessionEvent(sess), sess)
	data["agentName"] = sess.agentName
	data["clientName"] = sess.clientName
	data["clientRating"] = sess.clientRating
	data["clientComment"] = sess.clientComment
	data["ratedAt"] = stampPtr(sess.ratedAt)
	return data
}

// cancelledEvent returns the session.cancelled payload.
func cancelledEvent(sess *session, previous string) map[string]any {
	data := withCRM(sessionEvent(sess), sess)
	data["previousStatus"] = previous
	data["cancelledAt"] = stamp(sess.updatedAt)
	return data
}

// expiredEvent returns the session.expired payload.
func expiredEvent(sess *session) map[string]any {
	data := withCRM(sessionEvent(sess), sess)
	data["expiredAt"] = stamp(sess.expiresAt)
	return data
}

// updatedEvent returns the session.updated payload with the changed fields.
func updatedEvent(sess *session, fields []string) map[string]any {
	data := sessionEvent(sess)
	delete(data, "agentId")
	data["updatedFields"] = fields
	data["notes"] = sess.notes
	data["sessionTags"] = slices.Clone(emptyIfNil(sess.tags))
	data["closureTypeName"] = sess.closureTypeName
	data["updatedAt"] = stamp(sess.updatedAt)
	return data
}

// deletedEvent returns the session.deleted payload.
func deletedEvent(sess *session, deletedBy string, deletedAt stamp) map[string]any {
	data := withCRM(map[string]any{
		"id": sess.id, "agentId": sess.agentID, "appointmentId": sess.appointmentID,
	}, sess)
	data["deletedBy"] = deletedBy
	data["deletedAt"] = deletedAt
	return data
}
