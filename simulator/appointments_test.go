package simulator

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// appointmentBody returns a valid camera appointment request for the agent
// at the time, merged with extra.
func appointmentBody(agentID, at string, extra map[string]any) map[string]any {
	body := map[string]any{
		"agentId": agentID, "clientPhone": "+33612345678", "clientName": "Jean Dupont",
		"scheduledAt": at, "durationMinutes": 15, "notifyBy": "sms",
	}
	for k, v := range extra {
		body[k] = v
	}
	return body
}

func TestCreateAppointment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sophie := h.agentID(h.acme, "Sophie Bernard")
	r := h.do("POST", "/v1/appointments", h.acme.Key, appointmentBody(sophie, "2026-03-20T14:30:00+01:00", map[string]any{
		"crmId": "ODOO-1", "metadata": map[string]any{"odoo_ticket_id": "12345"}, "notes": "Bring the serial number",
		"notifyBy": "both", "clientEmail": "jean@email.example",
	}))
	want(t, r, http.StatusCreated, "")
	d := r.data()
	if str(d, "status") != "scheduled" || str(d, "scheduledAt") != "2026-03-20T13:30:00.000Z" ||
		str(d, "agentName") != "Sophie Bernard" || str(d, "organizationId") != h.acme.OrganizationID ||
		str(d, "createdBy") != "api:"+h.acme.KeyID || d["lobbyId"] != nil || str(d, "mode") != "camera" {
		t.Errorf("appointment %s", r.body)
	}

	got := h.do("GET", "/v1/appointments/"+str(d, "id"), h.acme.Key, nil)
	want(t, got, http.StatusOK, "")
	if string(got.body) != string(r.body) {
		t.Errorf("GET %s\nwant %s", got.body, r.body)
	}
	r = h.do("GET", "/v1/appointments/apt_nope", h.acme.Key, nil)
	want(t, r, http.StatusNotFound, codeNotFound)
	if r.message() != "Appointment not found" {
		t.Errorf("message %q", r.message())
	}

	// Screen mode needs an email and is always notified by email.
	r = h.do("POST", "/v1/appointments", h.acme.Key, map[string]any{
		"agentId": sophie, "scheduledAt": "2026-03-20T16:00:00Z", "durationMinutes": 5,
		"mode": "screen", "clientEmail": "a@b.example", "notifyBy": "sms",
	})
	want(t, r, http.StatusCreated, "")
	if str(r.data(), "notifyBy") != "email" || r.data()["clientPhone"] != nil {
		t.Errorf("screen appointment %s", r.body)
	}
}

func TestCreateAppointmentValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sophie := h.agentID(h.acme, "Sophie Bernard")
	at := "2026-03-20T14:30:00Z"
	base := func(extra map[string]any) map[string]any { return appointmentBody(sophie, at, extra) }
	without := func(field string) map[string]any {
		b := base(nil)
		delete(b, field)
		return b
	}
	tests := []struct {
		name   string
		key    string
		body   map[string]any
		status int
		code   string
	}{
		{"missing agent", "", without("agentId"), 400, codeMissingField},
		{"missing time", "", without("scheduledAt"), 400, codeMissingField},
		{"missing duration", "", without("durationMinutes"), 400, codeMissingField},
		{"missing phone in camera mode", "", without("clientPhone"), 400, codeMissingField},
		{"invalid phone", "", base(map[string]any{"clientPhone": "123"}), 400, codeInvalidPhone},
		{"invalid time", "", base(map[string]any{"scheduledAt": "tomorrow"}), 400, codeInvalidField},
		{"past time", "", base(map[string]any{"scheduledAt": "2026-03-12T15:30:00Z"}), 400, codeScheduledInPast},
		{"misaligned minutes", "", base(map[string]any{"scheduledAt": "2026-03-20T14:32:00Z"}), 400, codeInvalidTimeSlot},
		{"misaligned seconds", "", base(map[string]any{"scheduledAt": "2026-03-20T14:30:10Z"}), 400, codeInvalidTimeSlot},
		{"invalid duration", "", base(map[string]any{"durationMinutes": 30}), 400, codeInvalidField},
		{"invalid notifyBy", "", base(map[string]any{"notifyBy": "fax"}), 400, codeInvalidField},
		{"invalid mode", "", base(map[string]any{"mode": "video"}), 400, codeInvalidField},
		{"email notification without email", "", base(map[string]any{"notifyBy": "email"}), 400, codeMissingField},
		{"screen without email", "", base(map[string]any{"mode": "screen"}), 400, codeMissingField},
		{"invalid email", "", base(map[string]any{"clientEmail": "x"}), 400, codeInvalidEmail},
		{"invalid metadata", "", base(map[string]any{"metadata": map[string]any{"a": []int{}}}), 400, codeInvalidMetadata},
		{"unknown agent", "", appointmentBody("nobody", at, nil), 403, codeAgentNotMember},
		{"disabled agent", "", appointmentBody(h.agentID(h.acme, "Hugo Moreau"), at, nil), 403, codeAgentDisabled},
		{"viewer agent", "", appointmentBody(h.agentID(h.acme, "Emma Leroy"), at, nil), 403, codeInsufficientRole},
		{"scheduling disabled", h.nordlicht.Key, appointmentBody(h.agentID(h.nordlicht, "Felix Wagner"), at, nil),
			403, codeSchedulingDisabled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := tt.key
			if key == "" {
				key = h.acme.Key
			}
			want(t, h.do("POST", "/v1/appointments", key, tt.body), tt.status, tt.code)
		})
	}
}

func TestAppointmentDoubleBooking(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sophie := h.agentID(h.acme, "Sophie Bernard")
	lucas := h.agentID(h.acme, "Lucas Petit")
	first := h.do("POST", "/v1/appointments", h.acme.Key, appointmentBody(sophie, "2026-03-20T14:30:00Z", nil))
	want(t, first, http.StatusCreated, "")

	tests := []struct {
		agent, at string
		minutes   int
		status    int
	}{
		{sophie, "2026-03-20T14:30:00Z", 5, http.StatusConflict},
		{sophie, "2026-03-20T14:20:00Z", 15, http.StatusConflict},
		{sophie, "2026-03-20T14:40:00Z", 5, http.StatusConflict},
		{sophie, "2026-03-20T14:45:00Z", 15, http.StatusCreated}, // starts when the first ends
		{sophie, "2026-03-20T14:15:00Z", 15, http.StatusCreated}, // ends when the first starts
		{lucas, "2026-03-20T14:30:00Z", 15, http.StatusCreated},  // another agent
	}
	for _, tt := range tests {
		r := h.do("POST", "/v1/appointments", h.acme.Key,
			appointmentBody(tt.agent, tt.at, map[string]any{"durationMinutes": tt.minutes}))
		want(t, r, tt.status, "")
		if tt.status == http.StatusConflict && r.code() != codeSlotConflict {
			t.Errorf("%s: code %s, want %s", tt.at, r.code(), codeSlotConflict)
		}
	}

	// A cancelled appointment frees its slot.
	id := str(first.data(), "id")
	want(t, h.do("POST", "/v1/appointments/"+id+"/cancel", h.acme.Key, nil), http.StatusOK, "")
	want(t, h.do("POST", "/v1/appointments", h.acme.Key, appointmentBody(sophie, "2026-03-20T14:30:00Z", nil)),
		http.StatusCreated, "")
}

func TestAvailableSlots(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sophie := h.agentID(h.acme, "Sophie Bernard")
	want(t, h.do("POST", "/v1/appointments", h.acme.Key, appointmentBody(sophie, "2026-03-20T14:30:00Z", nil)),
		http.StatusCreated, "")

	r := h.do("GET", "/v1/appointments/available-slots?agentId="+sophie+"&date=2026-03-20&durationMinutes=10",
		h.acme.Key, nil)
	want(t, r, http.StatusOK, "")
	slots := list(r.data(), "slots")
	// 07:00 to 19:50 in 5-minute steps: 13 hours × 12 − 1.
	if len(slots) != 155 {
		t.Fatalf("%d slots, want 155", len(slots))
	}
	first, last := slots[0].(map[string]any), slots[len(slots)-1].(map[string]any)
	if str(first, "start") != "2026-03-20T07:00:00.000Z" || str(first, "end") != "2026-03-20T07:10:00.000Z" ||
		str(last, "end") != "2026-03-20T20:00:00.000Z" {
		t.Errorf("first %v last %v", first, last)
	}
	var busy []string
	for _, s := range slots {
		slot := s.(map[string]any)
		if slot["available"] == false {
			busy = append(busy, str(slot, "start")[11:16])
		}
	}
	if want := []string{"14:25", "14:30", "14:35", "14:40"}; !slices.Equal(busy, want) {
		t.Errorf("busy slots %v, want %v", busy, want)
	}

	// Slots before now are unavailable.
	r = h.do("GET", "/v1/appointments/available-slots?agentId="+sophie+"&date=2026-03-12", h.acme.Key, nil)
	want(t, r, http.StatusOK, "")
	for _, s := range list(r.data(), "slots") {
		slot := s.(map[string]any)
		past := str(slot, "start") <= "2026-03-12T15:30:00.000Z"
		if slot["available"] == past {
			t.Errorf("slot %v: available %v at 15:30", str(slot, "start"), slot["available"])
			break
		}
	}

	errors := []struct {
		query  string
		status int
		code   string
	}{
		{"date=2026-03-20", 400, codeMissingField},
		{"agentId=" + sophie, 400, codeMissingField},
		{"agentId=" + sophie + "&date=20-03-2026", 400, codeInvalidField},
		{"agentId=" + sophie + "&date=2026-03-20&durationMinutes=7", 400, codeInvalidField},
		{"agentId=" + sophie + "&date=2026-03-20&durationMinutes=x", 400, codeInvalidField},
		{"agentId=nobody&date=2026-03-20", 403, codeAgentNotMember},
	}
	for _, tt := range errors {
		want(t, h.do("GET", "/v1/appointments/available-slots?"+tt.query, h.acme.Key, nil), tt.status, tt.code)
	}
}

func TestUpdateAppointment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sophie := h.agentID(h.acme, "Sophie Bernard")
	a := h.do("POST", "/v1/appointments", h.acme.Key, appointmentBody(sophie, "2026-03-20T14:30:00Z", nil))
	want(t, a, http.StatusCreated, "")
	b := h.do("POST", "/v1/appointments", h.acme.Key, appointmentBody(sophie, "2026-03-20T16:00:00Z", nil))
	want(t, b, http.StatusCreated, "")
	path := "/v1/appointments/" + str(a.data(), "id")

	h.clock.Advance(time.Minute)
	r := h.do("PATCH", path, h.acme.Key, map[string]any{"notes": "Moved", "durationMinutes": 20, "clientName": nil})
	want(t, r, http.StatusOK, "")
	d := r.data()
	if str(d, "notes") != "Moved" || num(d, "durationMinutes") != 20 || d["clientName"] != nil ||
		str(d, "clientPhone") != "+33612345678" || str(d, "updatedAt") != "2026-03-12T15:31:00.000Z" {
		t.Errorf("updated %s", r.body)
	}

	tests := []struct {
		body   map[string]any
		status int
		code   string
	}{
		{map[string]any{}, 400, codeMissingField},
		{map[string]any{"scheduledAt": "2026-03-20T16:05:00Z"}, 409, codeSlotConflict},
		{map[string]any{"scheduledAt": "2026-03-01T10:00:00Z"}, 400, codeScheduledInPast},
		{map[string]any{"scheduledAt": "2026-03-20T16:01:00Z"}, 400, codeInvalidTimeSlot},
		{map[string]any{"notifyBy": "email"}, 400, codeMissingField},
		{map[string]any{"clientPhone": nil}, 400, codeMissingField},
		{map[string]any{"durationMinutes": 45}, 400, codeInvalidField},
	}
	for _, tt := range tests {
		want(t, h.do("PATCH", path, h.acme.Key, tt.body), tt.status, tt.code)
	}
	want(t, h.do("PATCH", path, h.acme.Key, map[string]any{"scheduledAt": "2026-03-20T17:00:00Z"}), http.StatusOK, "")

	want(t, h.do("POST", path+"/cancel", h.acme.Key, map[string]any{"reason": "Client asked"}), http.StatusOK, "")
	r = h.do("PATCH", path, h.acme.Key, map[string]any{"notes": "x"})
	want(t, r, http.StatusConflict, codeInvalidStatus)
	want(t, h.do("PATCH", "/v1/appointments/apt_nope", h.acme.Key, map[string]any{"notes": "x"}),
		http.StatusNotFound, codeNotFound)
}

func TestCancelAppointment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sophie := h.agentID(h.acme, "Sophie Bernard")
	a := h.do("POST", "/v1/appointments", h.acme.Key, appointmentBody(sophie, "2026-03-20T14:30:00Z",
		map[string]any{"crmId": "ODOO-7"}))
	path := "/v1/appointments/" + str(a.data(), "id") + "/cancel"

	r := h.do("POST", path, h.acme.Key, map[string]any{"reason": "Client requested reschedule"})
	want(t, r, http.StatusOK, "")
	d := r.data()
	if str(d, "status") != "cancelled" || str(d, "cancellationReason") != "Client requested reschedule" ||
		str(d, "crmId") != "ODOO-7" || str(d, "cancelledAt") != "2026-03-12T15:30:00.000Z" || d["lobbyId"] != nil {
		t.Errorf("cancel %s", r.body)
	}
	got := h.do("GET", "/v1/appointments/"+str(a.data(), "id"), h.acme.Key, nil).data()
	if str(got, "cancelledBy") != "api:"+h.acme.KeyID {
		t.Errorf("cancelledBy %q", str(got, "cancelledBy"))
	}

	r = h.do("POST", path, h.acme.Key, nil)
	want(t, r, http.StatusConflict, codeInvalidStatus)
	if r.message() != "Appointment is already cancelled" {
		t.Errorf("message %q", r.message())
	}
	want(t, h.do("POST", "/v1/appointments/apt_nope/cancel", h.acme.Key, nil), http.StatusNotFound, codeNotFound)
}

func TestAppointmentReminderCreatesSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sophie := h.agentID(h.acme, "Sophie Bernard")
	a := h.do("POST", "/v1/appointments", h.acme.Key, appointmentBody(sophie, "2026-03-12T16:00:00Z",
		map[string]any{"crmId": "ODOO-9", "metadata": map[string]any{"odoo_ticket_id": "9"}}))
	want(t, a, http.StatusCreated, "")
	id := str(a.data(), "id")

	h.clock.Advance(24 * time.Minute) // 15:54, one minute before the reminder
	if got := h.do("GET", "/v1/appointments/"+id, h.acme.Key, nil).data(); str(got, "status") != "scheduled" {
		t.Fatalf("status %q at 15:54, want scheduled", str(got, "status"))
	}
	h.clock.Advance(time.Minute)
	got := h.do("GET", "/v1/appointments/"+id, h.acme.Key, nil).data()
	if str(got, "status") != "lobby_created" || got["lobbyId"] == nil || str(got, "notifiedAt") != "2026-03-12T15:55:00.000Z" {
		t.Fatalf("appointment at 15:55: %v", got)
	}
	sess := h.do("GET", "/v1/sessions/"+str(got, "lobbyId"), h.acme.Key, nil)
	want(t, sess, http.StatusOK, "")
	s := sess.data()
	if str(s, "source") != "scheduled" || str(s, "crmId") != "ODOO-9" || str(s, "agentId") != sophie ||
		str(obj(s, "metadata"), "odoo_ticket_id") != "9" || str(s, "status") != "pending" {
		t.Errorf("scheduled session %s", sess.body)
	}
	list := h.do("GET", "/v1/appointments?status=lobby_created", h.acme.Key, nil)
	if got := ids(list, "appointments"); !slices.Equal(got, []string{id}) {
		t.Errorf("lobby_created appointments %v", got)
	}

	// Patching is closed once the lobby exists; cancelling cancels the session too.
	want(t, h.do("PATCH", "/v1/appointments/"+id, h.acme.Key, map[string]any{"notes": "x"}),
		http.StatusConflict, codeInvalidStatus)
	r := h.do("POST", "/v1/appointments/"+id+"/cancel", h.acme.Key, nil)
	want(t, r, http.StatusOK, "")
	if str(r.data(), "lobbyId") != str(got, "lobbyId") {
		t.Errorf("cancel lobbyId %v", r.data()["lobbyId"])
	}
	if st := h.do("GET", "/v1/sessions/"+str(got, "lobbyId"), h.acme.Key, nil).data(); str(st, "status") != "cancelled" {
		t.Errorf("linked session %q, want cancelled", str(st, "status"))
	}
}

func TestAppointmentCompletesWithSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sophie := h.agentID(h.acme, "Sophie Bernard")
	a := h.do("POST", "/v1/appointments", h.acme.Key, appointmentBody(sophie, "2026-03-12T15:40:00Z", nil))
	id := str(a.data(), "id")
	h.clock.Advance(5 * time.Minute)
	lobby := str(h.do("GET", "/v1/appointments/"+id, h.acme.Key, nil).data(), "lobbyId")
	want(t, h.control("POST", "/_sim/sessions/"+lobby+"/admit", nil), http.StatusOK, "")
	want(t, h.do("POST", "/v1/sessions/"+lobby+"/end", h.acme.Key, nil), http.StatusOK, "")

	got := h.do("GET", "/v1/appointments/"+id, h.acme.Key, nil).data()
	if str(got, "status") != "completed" {
		t.Errorf("status %q, want completed", str(got, "status"))
	}
	r := h.do("POST", "/v1/appointments/"+id+"/cancel", h.acme.Key, nil)
	want(t, r, http.StatusConflict, codeInvalidStatus)
	if r.message() != "Cannot cancel a completed appointment" {
		t.Errorf("message %q", r.message())
	}
}

func TestListAppointments(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sophie := h.agentID(h.acme, "Sophie Bernard")
	lucas := h.agentID(h.acme, "Lucas Petit")
	var created []string
	for i, at := range []string{"2026-03-20T09:00:00Z", "2026-03-21T09:00:00Z", "2026-03-22T09:00:00Z"} {
		agent := sophie
		if i == 2 {
			agent = lucas
		}
		h.clock.Advance(time.Second)
		r := h.do("POST", "/v1/appointments", h.acme.Key, appointmentBody(agent, at, map[string]any{
			"crmId": "L-" + at[8:10], "metadata": map[string]any{"odoo_ticket_id": at[8:10], "n": i},
		}))
		want(t, r, http.StatusCreated, "")
		created = append(created, str(r.data(), "id"))
	}
	h.clock.Advance(time.Minute)
	since := h.clock.Now().UTC().Format(time.RFC3339)
	before := h.clock.Now().UTC().Add(-time.Second).Format(time.RFC3339)
	want(t, h.do("PATCH", "/v1/appointments/"+created[0], h.acme.Key, map[string]any{"notes": "x"}), http.StatusOK, "")

	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{created[2], created[1], created[0]}},
		{"agentId=" + sophie, []string{created[1], created[0]}},
		{"crmId=L-21", []string{created[1]}},
		{"metadata.odoo_ticket_id=22", []string{created[2]}},
		{"metadata.n=1&metadata.odoo_ticket_id=21", []string{created[1]}},
		{"status=scheduled&scheduledAfter=2026-03-21T00:00:00Z", []string{created[2], created[1]}},
		{"scheduledBefore=2026-03-21T00:00:00Z", []string{created[0]}},
		{"updatedAfter=" + since, []string{created[0]}},
		{"updatedBefore=" + before, []string{created[2], created[1]}},
		{"updatedAfter=" + before + "&updatedBefore=" + since, []string{created[0]}},
	}
	for _, tt := range tests {
		r := h.do("GET", "/v1/appointments?"+tt.query, h.acme.Key, nil)
		want(t, r, http.StatusOK, "")
		if got := ids(r, "appointments"); !slices.Equal(got, tt.want) {
			t.Errorf("?%s: %v, want %v", tt.query, got, tt.want)
		}
	}

	r := h.do("GET", "/v1/appointments?limit=2", h.acme.Key, nil)
	p := obj(r.data(), "pagination")
	if p["hasMore"] != true || str(p, "nextCursor") != created[1] {
		t.Errorf("pagination %v", p)
	}
	r = h.do("GET", "/v1/appointments?limit=2&startAfter="+created[1], h.acme.Key, nil)
	if got := ids(r, "appointments"); !slices.Equal(got, []string{created[0]}) || obj(r.data(), "pagination")["nextCursor"] != nil {
		t.Errorf("second page %s", r.body)
	}

	for _, q := range []string{
		"updatedAfter=2026-03-01T00:00:00Z&scheduledAfter=2026-03-01T00:00:00Z",
		"updatedBefore=2026-03-01T00:00:00Z&scheduledBefore=2026-03-01T00:00:00Z",
	} {
		want(t, h.do("GET", "/v1/appointments?"+q, h.acme.Key, nil), http.StatusBadRequest, codeInvalidFilterCombo)
	}
	want(t, h.do("GET", "/v1/appointments?status=late", h.acme.Key, nil), http.StatusBadRequest, codeInvalidField)
	want(t, h.do("GET", "/v1/appointments?startAfter=apt_nope", h.acme.Key, nil), http.StatusBadRequest, codeInvalidCursor)
}
