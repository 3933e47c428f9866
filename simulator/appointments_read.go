package simulator

import (
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Working hours of GET /appointments/available-slots, in UTC.
const (
	workdayStartHour = 7
	workdayEndHour   = 20
	slotStep         = 5 * time.Minute
	defaultSlotMins  = 15
)

// getAppointment serves GET /appointments/{id}.
func (s *Server) getAppointment(c *call) (reply, *apiError) {
	return s.withAppointment(c, func(st *state, o *org, a *appointment) (reply, *apiError) {
		return ok(http.StatusOK, a.toJSON())
	})
}

// appointmentTime returns the sort time of an appointment.
func appointmentTime(a *appointment, byUpdated bool) time.Time {
	if byUpdated {
		return a.updatedAt
	}
	return a.createdAt
}

// listAppointments serves GET /appointments, newest first by createdAt, or
// by updatedAt when updatedAfter or updatedBefore is given.
func (s *Server) listAppointments(c *call) (reply, *apiError) {
	f, err := parseListFilter(c.query, appointmentState)
	if err != nil {
		return reply{}, err
	}
	bounds := map[string]*time.Time{}
	for _, name := range []string{"scheduledAfter", "scheduledBefore", "updatedAfter", "updatedBefore"} {
		if bounds[name], err = optionalTime(c.query, name); err != nil {
			return reply{}, err
		}
	}
	byUpdated := bounds["updatedAfter"] != nil || bounds["updatedBefore"] != nil
	if byUpdated && (bounds["scheduledAfter"] != nil || bounds["scheduledBefore"] != nil) {
		return reply{}, badRequest(codeInvalidFilterCombo,
			"updatedAfter/updatedBefore cannot be combined with scheduledAfter/scheduledBefore; send one pair or the other")
	}

	return s.locked(c, func(st *state, o *org) (reply, *apiError) {
		var list []*appointment
		for _, a := range o.appointments {
			if appointmentMatches(a, f) &&
				inRange(a.scheduledAt, bounds["scheduledAfter"], bounds["scheduledBefore"]) &&
				inRange(a.updatedAt, bounds["updatedAfter"], bounds["updatedBefore"]) {
				list = append(list, a)
			}
		}
		slices.SortFunc(list, func(x, y *appointment) int {
			return compareNewest(appointmentTime(x, byUpdated), x.seq, appointmentTime(y, byUpdated), y.seq)
		})

		var after func(int) bool
		if f.startAfter != "" {
			cursor := st.appointment(o, f.startAfter)
			if cursor == nil {
				return reply{}, invalidCursor(f.startAfter, "an appointment")
			}
			after = func(i int) bool {
				return compareNewest(appointmentTime(list[i], byUpdated), list[i].seq,
					appointmentTime(cursor, byUpdated), cursor.seq) > 0
			}
		}
		page, pagination := pageAfter(list, after, f.limit, func(a *appointment) string { return a.id })
		items := make([]appointmentJSON, 0, len(page))
		for _, a := range page {
			items = append(items, a.toJSON())
		}
		return ok(http.StatusOK, map[string]any{"appointments": items, "pagination": pagination})
	})
}

// appointmentMatches applies the shared list filters to an appointment.
func appointmentMatches(a *appointment, f listFilter) bool {
	return (f.status == "" || a.status == f.status) &&
		(f.agentID == "" || a.agentID == f.agentID) &&
		(f.crmID == "" || (a.crmID != nil && *a.crmID == f.crmID)) &&
		f.matchesMetadata(a.metadata)
}

// slotJSON is the contract's AvailableSlot.
type slotJSON struct {
	Start     stamp `json:"start"`
	End       stamp `json:"end"`
	Available bool  `json:"available"`
}

// availableSlots serves GET /appointments/available-slots: every 5-minute
// start from 07:00 to 20:00 UTC whose slot fits the day. A slot is
// available when it starts in the future and overlaps none of the agent's
// non-cancelled appointments.
func (s *Server) availableSlots(c *call) (reply, *apiError) {
	agentID := c.query.Get("agentId")
	if agentID == "" {
		return reply{}, missingField("agentId")
	}
	rawDate := c.query.Get("date")
	if rawDate == "" {
		return reply{}, missingField("date")
	}
	day, perr := time.Parse(time.DateOnly, rawDate)
	if perr != nil {
		return reply{}, invalidField("date must be a calendar date in YYYY-MM-DD form, got %q", rawDate)
	}
	minutes := defaultSlotMins
	if c.query.Has("durationMinutes") {
		n, err := strconv.Atoi(c.query.Get("durationMinutes"))
		if err != nil {
			return reply{}, invalidField("durationMinutes must be one of: 5, 10, 15, 20")
		}
		if err := oneOfInt("durationMinutes", n, slotMinutes); err != nil {
			return reply{}, err
		}
		minutes = n
	}

	return s.locked(c, func(st *state, o *org) (reply, *apiError) {
		if o.findAgent(agentID) == nil {
			return reply{}, forbidden(codeAgentNotMember, "Agent is not a member of this organization")
		}
		now := s.now()
		length := time.Duration(minutes) * time.Minute
		closing := day.Add(workdayEndHour * time.Hour)
		slots := []slotJSON{}
		for start := day.Add(workdayStartHour * time.Hour); !start.Add(length).After(closing); start = start.Add(slotStep) {
			free := start.After(now)
			for _, a := range o.appointments {
				if free && a.agentID == agentID && a.status != "cancelled" && a.overlaps(start, minutes) {
					free = false
				}
			}
			slots = append(slots, slotJSON{Start: stamp(start), End: stamp(start.Add(length)), Available: free})
		}
		return ok(http.StatusOK, map[string]any{"slots": slots})
	})
}
