package server

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// clockSkew is the margin by which an appointment time must lie in the
// gateway's future before the gateway judges its grid alignment itself.
// Closer to now, the upstream's clock decides whether the time is already
// past, and it checks that first.
const clockSkew = time.Minute

// checkCreateAppointment follows the upstream's order for
// POST /appointments: agentId, scheduledAt, the time's grid, durationMinutes,
// clientPhone, the email format (upstream only), metadata, then the contact
// fields that the mode and the notification channel require.
func checkCreateAppointment(c *checker, m *groundcamv1.CreateAppointmentRequest) {
	checkRequired(c, "agent_id", "agentId", m.GetAgentId())
	if m.ScheduledAt == nil {
		c.add(violation{
			field:       "scheduled_at",
			description: "scheduled_at is missing; set the start time, in the future and on the 5-minute grid",
			reason:      reasonMissingField,
			message:     "scheduledAt is required",
		})
	} else {
		checkScheduledAt(c, m.GetScheduledAt())
	}
	checkSlotMinutes(c, "duration_minutes", "durationMinutes", m.GetDurationMinutes())
	if m.ClientPhone != nil {
		checkPhone(c, "client_phone", m.GetClientPhone())
	}
	if m.ClientEmail != nil {
		checkEmailFormat(c, m.GetClientEmail())
	}
	checkMetadata(c, "metadata", m.GetMetadata())
	checkContact(c, m)
}

// checkContact applies the contract's contact rules: screen mode needs
// clientEmail, camera mode (the default) needs clientPhone, and email or
// both notifications need clientEmail. Screen mode always notifies by
// email, so its one rule covers the third.
func checkContact(c *checker, m *groundcamv1.CreateAppointmentRequest) {
	if m.GetMode() == groundcamv1.SessionMode_SESSION_MODE_SCREEN {
		if m.ClientEmail == nil {
			c.add(violation{
				field:       "client_email",
				description: "client_email is missing; screen appointments send the link by email",
				reason:      reasonMissingField,
				message:     "clientEmail is required when mode is screen",
			})
		}
		return
	}
	if m.ClientPhone == nil {
		c.add(violation{
			field:       "client_phone",
			description: "client_phone is missing; camera appointments, the default mode, need the client's phone number",
			reason:      reasonMissingField,
			message:     "clientPhone is required",
		})
	}
	notify := m.GetNotifyBy()
	if m.ClientEmail == nil && (notify == groundcamv1.AppointmentNotifyBy_APPOINTMENT_NOTIFY_BY_EMAIL ||
		notify == groundcamv1.AppointmentNotifyBy_APPOINTMENT_NOTIFY_BY_BOTH) {
		wire := wireValue(notify.Descriptor().Values().ByNumber(notify.Number()))
		c.add(violation{
			field:       "client_email",
			description: fmt.Sprintf("client_email is missing; notify_by %s sends an email", wire),
			reason:      reasonMissingField,
			message:     fmt.Sprintf("clientEmail is required when notifyBy is %q", wire),
		})
	}
}

// checkUpdateAppointment checks the fields that are set, in the upstream's
// order. Whether the changed appointment still has the contact fields its
// mode needs depends on the stored appointment, so the upstream checks it.
func checkUpdateAppointment(c *checker, m *groundcamv1.UpdateAppointmentRequest) {
	if m.ScheduledAt != nil {
		checkScheduledAt(c, m.GetScheduledAt())
	}
	if m.DurationMinutes != nil {
		checkSlotMinutes(c, "duration_minutes", "durationMinutes", m.GetDurationMinutes())
	}
	if m.ClientPhone != nil {
		checkPhone(c, "client_phone", m.GetClientPhone())
	}
	if m.ClientEmail != nil {
		checkEmailFormat(c, m.GetClientEmail())
	}
	checkMetadata(c, "metadata", m.GetMetadata())
}

// checkScheduledAt requires a start on the 5-minute grid: minutes 0, 5, ...,
// 55 and no seconds. The upstream first rejects times that are not in the
// future by its own clock, so a time near or before the gateway's now is
// left to it.
func checkScheduledAt(c *checker, ts *timestamppb.Timestamp) {
	if ts.CheckValid() != nil {
		return // checkEncodable reports it
	}
	t := wireTime(ts.AsTime())
	if !t.After(time.Now().Add(clockSkew)) {
		c.upstreamDecides()
	}
	if t.Minute()%5 == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return
	}
	c.add(violation{
		field: "scheduled_at",
		description: fmt.Sprintf("scheduled_at %s is off the 5-minute grid; use minutes 00, 05, ..., 55 "+
			"and zero seconds, such as %s", wireTimeText(t), wireTimeText(t.Truncate(5*time.Minute).Add(5*time.Minute))),
		reason: reasonInvalidTimeSlot,
		message: "scheduledAt must be aligned to a 5-minute slot (minutes 00, 05, ..., 55 and zero seconds), got " +
			wireTimeText(t),
	})
}

// checkListAppointments follows the upstream's order for
// GET /appointments: limit, metadata filter keys (upstream only), then the
// filter combination.
func checkListAppointments(c *checker, m *groundcamv1.ListAppointmentsRequest) {
	checkLimit(c, m.Limit)
	checkMetadataFilters(c, m.GetMetadata())
	updated := m.UpdatedAfter != nil || m.UpdatedBefore != nil
	if updated && (m.ScheduledAfter != nil || m.ScheduledBefore != nil) {
		c.add(violation{
			field: "updated_after",
			description: "updated_after or updated_before is set together with scheduled_after or " +
				"scheduled_before; send one pair or the other",
			reason: reasonFilterCombo,
			message: "updatedAfter/updatedBefore cannot be combined with scheduledAfter/scheduledBefore; " +
				"send one pair or the other",
		})
	}
}

// checkAvailableSlots follows the upstream's order for
// GET /appointments/available-slots: agentId, date, then durationMinutes.
func checkAvailableSlots(c *checker, m *groundcamv1.GetAvailableAppointmentSlotsRequest) {
	checkRequired(c, "agent_id", "agentId", m.GetAgentId())
	date := m.GetDate()
	switch _, err := time.Parse(time.DateOnly, date); {
	case date == "":
		checkRequired(c, "date", "date", date)
	case err != nil:
		c.add(violation{
			field:       "date",
			description: fmt.Sprintf("date %q is not a calendar date; use the form YYYY-MM-DD, such as 2026-03-20", date),
			reason:      reasonInvalidField,
			message:     fmt.Sprintf("date must be a calendar date in YYYY-MM-DD form, got %q", date),
		})
	}
	if m.DurationMinutes != nil {
		checkSlotMinutes(c, "duration_minutes", "durationMinutes", m.GetDurationMinutes())
	}
}
