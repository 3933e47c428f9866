package simulator

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// eventFields are the documented payload fields of each event variant.
var eventFields = map[string]string{
	"session.created/api":        "id status agentId agentName clientPhone clientName clientEmail clientUrl agentUrl crmId ticketUrl metadata sessionTags source mode createdAt expiresAt",
	"session.created/bulk":       "id status agentId agentName clientPhone clientName clientUrl agentUrl crmId ticketUrl metadata sessionTags source createdAt expiresAt",
	"session.created/scheduled":  "id status mode agentId agentName clientPhone clientName clientUrl agentUrl crmId ticketUrl metadata appointmentId source createdAt expiresAt",
	"session.client_waiting":     "id status agentId clientName clientWaitingAt appointmentId",
	"session.active":             "id status agentId agentName clientName startedAt appointmentId",
	"session.completed":          "id status agentId agentName clientName crmId ticketUrl metadata duration agentDuration clientDuration closureTypeName notes sessionTags completedAt appointmentId",
	"session.rated":              "id status agentId agentName clientName crmId ticketUrl metadata clientRating clientComment ratedAt appointmentId",
	"session.cancelled":          "id status agentId crmId ticketUrl metadata previousStatus cancelledAt appointmentId",
	"session.expired":            "id status agentId crmId ticketUrl metadata expiredAt appointmentId",
	"session.updated":            "id status updatedFields notes sessionTags closureTypeName updatedAt appointmentId",
	"session.updated/screenshot": "id status updatedFields notes sessionTags closureTypeName updatedAt appointmentId screenshot",
	"session.updated/deleted":    "id status updatedFields notes sessionTags closureTypeName updatedAt appointmentId screenshotDeleted",
	"session.deleted":            "id agentId crmId ticketUrl metadata deletedBy deletedAt appointmentId",
	"appointment.created":        "id organizationId status agentId agentName clientPhone clientName clientEmail crmId ticketUrl scheduledAt durationMinutes notifyBy mode notes metadata createdAt createdBy updatedAt",
	"appointment.updated/patch":  "id status agentId agentName organizationId clientPhone clientName clientEmail scheduledAt durationMinutes notifyBy mode crmId ticketUrl metadata notes lobbyId notifiedAt cancelledAt cancellationReason cancelledBy createdAt updatedAt createdBy updatedFields",
	"appointment.updated/lobby":  "id status lobbyId mode agentId agentName clientPhone clientName crmId ticketUrl metadata clientUrl agentUrl updatedFields updatedAt",
	"appointment.cancelled":      "id status agentId agentName clientPhone clientName clientEmail crmId ticketUrl metadata scheduledAt durationMinutes mode previousStatus cancellationReason lobbyId cancelledAt",
}

// checkFields fails unless data has exactly the variant's fields.
func checkFields(t *testing.T, variant string, data map[string]any) {
	t.Helper()
	wantKeys := strings.Fields(eventFields[variant])
	var got []string
	for k := range data {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(wantKeys)
	if !slices.Equal(got, wantKeys) {
		t.Errorf("%s fields:\n got %v\nwant %v", variant, got, wantKeys)
	}
}

// find returns the payload of the event about the id that matches, or fails.
func find(t *testing.T, got []received, event, id string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	for _, g := range got {
		if g.event == event && str(g.data, "id") == id && (match == nil || match(g.data)) {
			if !g.verified {
				t.Errorf("%s for %s: signature does not verify", event, id)
			}
			return g.data
		}
	}
	t.Fatalf("no %s event for %s among %d deliveries", event, id, len(got))
	return nil
}

func TestWebhookEvents(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, http.StatusOK)
	h := newHarness(t, WithWebhookClient(rc.srv.Client()))
	h.subscribe(rc, "", webhookEvents...)
	sophie := h.agentID(h.acme, "Sophie Bernard")

	// One session through its whole life.
	a := str(h.createSession(map[string]any{"crmId": "EV-A"}), "id")
	want(t, h.control("POST", "/_sim/sessions/"+a+"/join", map[string]any{"clientName": "Jean"}), http.StatusOK, "")
	want(t, h.control("POST", "/_sim/sessions/"+a+"/admit", nil), http.StatusOK, "")
	shot := h.control("POST", "/_sim/sessions/"+a+"/screenshots", map[string]any{"tags": []string{"defect"}})
	want(t, shot, http.StatusOK, "")
	want(t, h.do("PATCH", "/v1/sessions/"+a, h.acme.Key, map[string]any{"notes": "n"}), http.StatusOK, "")
	want(t, h.do("POST", "/v1/sessions/"+a+"/end", h.acme.Key, map[string]any{"agentDuration": 60}), http.StatusOK, "")
	want(t, h.control("POST", "/_sim/sessions/"+a+"/rate", map[string]any{"rating": 5, "comment": "Great"}), http.StatusOK, "")
	shotPath := "/_sim/sessions/" + a + "/screenshots/" + str(shot.data(), "id")
	want(t, h.control("PATCH", shotPath, map[string]any{"tags": []string{"serial"}}), http.StatusOK, "")
	want(t, h.control("DELETE", shotPath, nil), http.StatusOK, "")

	// Cancelled, deleted, expired and bulk sessions.
	b := str(h.createSession(nil), "id")
	want(t, h.do("POST", "/v1/sessions/"+b+"/cancel", h.acme.Key, nil), http.StatusOK, "")
	want(t, h.control("DELETE", "/_sim/sessions/"+b, nil), http.StatusOK, "")
	c := str(h.createSession(map[string]any{"ttlMinutes": 5}), "id")
	bulk := h.do("POST", "/v1/sessions/bulk", h.acme.Key, map[string]any{"sessions": []any{
		map[string]any{"clientPhone": "+33612345678", "agentId": sophie},
	}})
	d := str(obj(list(bulk.data(), "results")[0].(map[string]any), "session"), "id")

	// Appointments: created, patched, cancelled, and one reaching its reminder.
	apt := str(h.do("POST", "/v1/appointments", h.acme.Key, appointmentBody(sophie, "2026-03-12T16:00:00Z", nil)).data(), "id")
	want(t, h.do("PATCH", "/v1/appointments/"+apt, h.acme.Key, map[string]any{"notes": "x"}), http.StatusOK, "")
	other := str(h.do("POST", "/v1/appointments", h.acme.Key, appointmentBody(sophie, "2026-03-13T16:00:00Z", nil)).data(), "id")
	want(t, h.do("POST", "/v1/appointments/"+other+"/cancel", h.acme.Key, map[string]any{"reason": "r"}), http.StatusOK, "")

	h.clock.Advance(25 * time.Minute)
	h.sim.Sweep()
	h.sim.Webhooks().Wait()
	got := rc.deliveries()

	checkFields(t, "session.created/api", find(t, got, "session.created", a, nil))
	checkFields(t, "session.client_waiting", find(t, got, "session.client_waiting", a, nil))
	checkFields(t, "session.active", find(t, got, "session.active", a, nil))
	isPatch := func(m map[string]any) bool { return slices.Equal(list(m, "updatedFields"), []any{"notes"}) }
	checkFields(t, "session.updated", find(t, got, "session.updated", a, isPatch))
	hasShot := func(m map[string]any) bool { return m["screenshot"] != nil }
	checkFields(t, "session.updated/screenshot", find(t, got, "session.updated", a, hasShot))
	hasDeleted := func(m map[string]any) bool { return m["screenshotDeleted"] != nil }
	checkFields(t, "session.updated/deleted", find(t, got, "session.updated", a, hasDeleted))
	completed := find(t, got, "session.completed", a, nil)
	checkFields(t, "session.completed", completed)
	if num(completed, "agentDuration") != 60 || str(completed, "notes") != "n" {
		t.Errorf("completed payload %v", completed)
	}
	rated := find(t, got, "session.rated", a, nil)
	checkFields(t, "session.rated", rated)
	if num(rated, "clientRating") != 5 {
		t.Errorf("rated payload %v", rated)
	}
	cancelled := find(t, got, "session.cancelled", b, nil)
	checkFields(t, "session.cancelled", cancelled)
	if str(cancelled, "previousStatus") != "pending" {
		t.Errorf("cancelled payload %v", cancelled)
	}
	checkFields(t, "session.deleted", find(t, got, "session.deleted", b, nil))
	checkFields(t, "session.expired", find(t, got, "session.expired", c, nil))
	checkFields(t, "session.created/bulk", find(t, got, "session.created", d, nil))

	checkFields(t, "appointment.created", find(t, got, "appointment.created", apt, nil))
	checkFields(t, "appointment.updated/patch", find(t, got, "appointment.updated", apt, isPatch))
	checkFields(t, "appointment.cancelled", find(t, got, "appointment.cancelled", other, nil))
	isLobby := func(m map[string]any) bool { return str(m, "status") == "lobby_created" }
	lobby := find(t, got, "appointment.updated", apt, isLobby)
	checkFields(t, "appointment.updated/lobby", lobby)
	if !slices.Contains(list(lobby, "updatedFields"), any("lobbyId")) {
		t.Errorf("lobby updatedFields %v, want lobbyId", lobby["updatedFields"])
	}
	scheduled := find(t, got, "session.created", str(lobby, "lobbyId"), nil)
	checkFields(t, "session.created/scheduled", scheduled)
	if str(scheduled, "appointmentId") != apt || str(scheduled, "source") != "scheduled" {
		t.Errorf("scheduled session payload %v", scheduled)
	}
}
