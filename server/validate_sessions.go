package server

import (
	"fmt"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// checkCreateSession follows the upstream's order for POST /sessions:
// clientPhone (required in camera mode, the default), agentId, the email
// format (upstream only), ttlMinutes, then metadata.
func checkCreateSession(c *checker, m *groundcamv1.CreateSessionRequest) {
	camera := m.GetMode() != groundcamv1.SessionMode_SESSION_MODE_SCREEN
	switch {
	case m.ClientPhone != nil:
		checkPhone(c, "client_phone", m.GetClientPhone())
	case camera:
		c.add(violation{
			field:       "client_phone",
			description: "client_phone is missing; camera sessions, the default mode, need the client's phone number",
			reason:      reasonMissingField,
			message:     "clientPhone is required",
		})
	}
	checkRequired(c, "agent_id", "agentId", m.GetAgentId())
	if m.ClientEmail != nil {
		checkEmailFormat(c, m.GetClientEmail())
	}
	if m.TtlMinutes != nil {
		checkSlotMinutes(c, "ttl_minutes", "ttlMinutes", m.GetTtlMinutes())
	}
	checkMetadata(c, "metadata", m.GetMetadata())
}

// checkCreateSessionsBulk checks the number of items. Each item's fields
// are checked by the upstream, which creates the valid items and reports
// the others in its results.
func checkCreateSessionsBulk(c *checker, m *groundcamv1.CreateSessionsBulkRequest) {
	switch n := len(m.GetSessions()); {
	case n == 0:
		c.add(violation{
			field:       "sessions",
			description: "sessions is empty; send 1 to 10 sessions",
			reason:      reasonInvalidField,
			message:     "sessions must contain at least 1 item",
		})
	case n > maxBulkSessions:
		c.add(violation{
			field:       "sessions",
			description: fmt.Sprintf("sessions has %d items; send 1 to %d per request", n, maxBulkSessions),
			reason:      reasonTooMany,
			message: fmt.Sprintf("sessions contains %d items; send at most %d per request",
				n, maxBulkSessions),
		})
	}
}

// checkListSessions follows the upstream's order for GET /sessions: limit,
// metadata filter keys (upstream only), then the filter combination.
func checkListSessions(c *checker, m *groundcamv1.ListSessionsRequest) {
	checkLimit(c, m.Limit)
	checkMetadataFilters(c, m.GetMetadata())
	if m.UpdatedAfter != nil && (m.CreatedAfter != nil || m.CreatedBefore != nil) {
		c.add(violation{
			field:       "updated_after",
			description: "updated_after is set together with created_after or created_before; send one or the other",
			reason:      reasonFilterCombo,
			message:     "updatedAfter cannot be combined with createdAfter or createdBefore; send one or the other",
		})
	}
}

// checkUpdateSession requires at least one change.
func checkUpdateSession(c *checker, m *groundcamv1.UpdateSessionRequest) {
	if m.Notes == nil && m.SessionTags == nil && m.ClosureTypeName == nil {
		c.add(violation{
			field:       "notes",
			description: "no field to change is set; set notes, session_tags or closure_type_name",
			reason:      reasonMissingField,
			message:     "At least one field is required: notes, sessionTags, closureTypeName",
		})
	}
}

// checkScreenshots checks the lifetime of the download URLs.
func checkScreenshots(c *checker, m *groundcamv1.GetSessionScreenshotsRequest) {
	if m.UrlTtl == nil {
		return
	}
	ttl := m.GetUrlTtl()
	if ttl >= minURLTTL && ttl <= maxURLTTL {
		return
	}
	c.add(violation{
		field: "url_ttl",
		description: fmt.Sprintf("url_ttl is %d; use %d to %d seconds",
			ttl, minURLTTL, maxURLTTL),
		reason: reasonInvalidField,
		message: fmt.Sprintf("url_ttl must be an integer between %d and %d seconds, got %q",
			minURLTTL, maxURLTTL, fmt.Sprint(ttl)),
	})
}
