package server_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// appointmentTime returns 10:15 UTC five days from now, on the 5-minute
// grid and inside the working hours of the available-slots endpoint.
func appointmentTime() time.Time {
	day := time.Now().UTC().AddDate(0, 0, 5)
	return time.Date(day.Year(), day.Month(), day.Day(), 10, 15, 0, 0, time.UTC)
}

// createAppointment schedules a 15-minute camera appointment with Sophie
// Bernard at appointmentTime.
func (h *harness) createAppointment() *groundcamv1.Appointment {
	h.t.Helper()
	res, err := h.appointments.CreateAppointment(context.Background(), connect.NewRequest(&groundcamv1.CreateAppointmentRequest{
		AgentId:         h.agentID("Sophie Bernard"),
		ClientPhone:     proto.String("+33612345678"),
		ClientName:      proto.String("Jean Dupont"),
		ScheduledAt:     timestamppb.New(appointmentTime()),
		DurationMinutes: 15,
		NotifyBy:        groundcamv1.AppointmentNotifyBy_APPOINTMENT_NOTIFY_BY_SMS,
		CrmId:           proto.String("ODOO-1"),
	}))
	if err != nil {
		h.t.Fatalf("CreateAppointment: %v", err)
	}
	return res.Msg.GetAppointment()
}

func TestCreateAppointment(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	a := h.createAppointment()
	if a.GetStatus() != groundcamv1.AppointmentStatus_APPOINTMENT_STATUS_SCHEDULED ||
		!a.GetScheduledAt().AsTime().Equal(appointmentTime()) || a.GetAgentName() != "Sophie Bernard" {
		t.Errorf("appointment = %v, want scheduled at %v with Sophie Bernard", a, appointmentTime())
	}
	stored := h.simGet("/v1/appointments/" + a.GetId())
	for field, want := range map[string]any{
		"clientPhone": "+33612345678", "crmId": "ODOO-1", "notifyBy": "sms", "mode": "camera",
		"durationMinutes": 15.0, "scheduledAt": appointmentTime().Format("2006-01-02T15:04:05.000Z"),
	} {
		if stored[field] != want {
			t.Errorf("stored %s = %v, want %v", field, stored[field], want)
		}
	}

	_, err := h.appointments.CreateAppointment(context.Background(), connect.NewRequest(&groundcamv1.CreateAppointmentRequest{
		AgentId: h.agentID("Sophie Bernard"), ClientPhone: proto.String("+33698765432"),
		ScheduledAt: timestamppb.New(appointmentTime().Add(5 * time.Minute)), DurationMinutes: 5,
	}))
	wantError(t, err, connect.CodeAlreadyExists, "SLOT_CONFLICT", 409)

	_, data := h.simCall(http.MethodGet, "/v1/agents", keyTrial, nil)
	trialAgent := data["agents"].([]any)[0].(map[string]any)["id"].(string)
	_, err = h.appointments.CreateAppointment(context.Background(), withKey(&groundcamv1.CreateAppointmentRequest{
		AgentId: trialAgent, ClientPhone: proto.String("+33612345678"),
		ScheduledAt: timestamppb.New(appointmentTime()), DurationMinutes: 15,
	}, h.key(keyTrial)))
	wantError(t, err, connect.CodePermissionDenied, "SCHEDULING_NOT_ENABLED", 403)

	_, err = h.appointments.CreateAppointment(context.Background(), connect.NewRequest(&groundcamv1.CreateAppointmentRequest{
		AgentId: h.agentID("Lucas Petit"), ClientPhone: proto.String("+33612345678"),
		ScheduledAt: timestamppb.New(appointmentTime().Add(2 * time.Minute)), DurationMinutes: 15,
	}))
	cerr := wantError(t, err, connect.CodeInvalidArgument, "INVALID_TIME_SLOT", 400)
	if got := badRequestFields(t, cerr); !slices.Equal(got, []string{"scheduled_at"}) {
		t.Errorf("BadRequest fields = %v, want [scheduled_at]", got)
	}
	// The simulator returns the same code and message for the same body.
	status, _ := h.simCall(http.MethodPost, "/v1/appointments", keyAcme, map[string]any{
		"agentId": h.agentID("Lucas Petit"), "clientPhone": "+33612345678", "durationMinutes": 15,
		"scheduledAt": appointmentTime().Add(2 * time.Minute).Format(time.RFC3339),
	})
	if status != http.StatusBadRequest || h.lastSimError.Code != "INVALID_TIME_SLOT" || h.lastSimError.Message != cerr.Message() {
		t.Errorf("simulator answered %d %+v, want 400 with the gateway's code and message", status, h.lastSimError)
	}
}

func TestReadAppointments(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	a := h.createAppointment()

	got, err := h.appointments.GetAppointment(context.Background(),
		connect.NewRequest(&groundcamv1.GetAppointmentRequest{Id: a.GetId()}))
	if err != nil {
		t.Fatalf("GetAppointment: %v", err)
	}
	if !proto.Equal(got.Msg.GetAppointment(), a) {
		t.Errorf("GetAppointment = %v, want the created %v", got.Msg.GetAppointment(), a)
	}
	_, err = h.appointments.GetAppointment(context.Background(),
		connect.NewRequest(&groundcamv1.GetAppointmentRequest{Id: "apt_missing"}))
	wantError(t, err, connect.CodeNotFound, "NOT_FOUND", 404)

	list, err := h.appointments.ListAppointments(context.Background(), connect.NewRequest(&groundcamv1.ListAppointmentsRequest{
		AgentId: proto.String(a.GetAgentId()), Status: groundcamv1.AppointmentStatus_APPOINTMENT_STATUS_SCHEDULED,
		Limit: proto.Int32(100),
	}))
	if err != nil {
		t.Fatalf("ListAppointments: %v", err)
	}
	stored := h.simGet("/v1/appointments?status=scheduled&limit=100&agentId=" + a.GetAgentId())["appointments"].([]any)
	if len(list.Msg.GetAppointments()) != len(stored) {
		t.Fatalf("appointments = %d, want %d", len(list.Msg.GetAppointments()), len(stored))
	}
	if !slices.ContainsFunc(list.Msg.GetAppointments(), func(x *groundcamv1.Appointment) bool { return x.GetId() == a.GetId() }) {
		t.Errorf("list misses the created appointment %s", a.GetId())
	}

	_, err = h.appointments.ListAppointments(context.Background(), connect.NewRequest(&groundcamv1.ListAppointmentsRequest{
		UpdatedAfter: timestamppb.Now(), ScheduledBefore: timestamppb.Now(),
	}))
	wantError(t, err, connect.CodeInvalidArgument, "INVALID_FILTER_COMBINATION", 400)

	slots, err := h.appointments.GetAvailableAppointmentSlots(context.Background(),
		connect.NewRequest(&groundcamv1.GetAvailableAppointmentSlotsRequest{
			AgentId: a.GetAgentId(), Date: appointmentTime().Format(time.DateOnly), DurationMinutes: proto.Int32(15),
		}))
	if err != nil {
		t.Fatalf("GetAvailableAppointmentSlots: %v", err)
	}
	storedSlots := h.simGet("/v1/appointments/available-slots?durationMinutes=15&agentId=" + a.GetAgentId() +
		"&date=" + appointmentTime().Format(time.DateOnly))["slots"].([]any)
	if len(slots.Msg.GetSlots()) != len(storedSlots) {
		t.Fatalf("slots = %d, want %d", len(slots.Msg.GetSlots()), len(storedSlots))
	}
	for i, slot := range slots.Msg.GetSlots() {
		if slot.GetAvailable() != storedSlots[i].(map[string]any)["available"] {
			t.Errorf("slot %v available = %v, want %v", slot.GetStart().AsTime(), slot.GetAvailable(), storedSlots[i])
		}
		if slot.GetStart().AsTime().Equal(appointmentTime()) && slot.GetAvailable() {
			t.Errorf("slot at %v is available, but the appointment takes it", appointmentTime())
		}
	}

	_, err = h.appointments.GetAvailableAppointmentSlots(context.Background(),
		connect.NewRequest(&groundcamv1.GetAvailableAppointmentSlotsRequest{AgentId: "nobody", Date: "2026-03-20"}))
	wantError(t, err, connect.CodePermissionDenied, "AGENT_NOT_MEMBER", 403)
}

func TestChangeAppointment(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	a := h.createAppointment()

	updated, err := h.appointments.UpdateAppointment(context.Background(), connect.NewRequest(&groundcamv1.UpdateAppointmentRequest{
		Id: a.GetId(), Notes: proto.String("Bring the invoice"), DurationMinutes: proto.Int32(20),
		ScheduledAt: timestamppb.New(appointmentTime().Add(time.Hour)),
	}))
	if err != nil {
		t.Fatalf("UpdateAppointment: %v", err)
	}
	if updated.Msg.GetAppointment().GetDurationMinutes() != 20 {
		t.Errorf("duration = %d, want 20", updated.Msg.GetAppointment().GetDurationMinutes())
	}
	stored := h.simGet("/v1/appointments/" + a.GetId())
	if stored["notes"] != "Bring the invoice" || stored["durationMinutes"] != 20.0 ||
		stored["scheduledAt"] != appointmentTime().Add(time.Hour).Format("2006-01-02T15:04:05.000Z") {
		t.Errorf("stored appointment = %v, want the new notes, duration and time", stored)
	}

	_, err = h.appointments.UpdateAppointment(context.Background(), connect.NewRequest(&groundcamv1.UpdateAppointmentRequest{
		Id: a.GetId(), DurationMinutes: proto.Int32(25),
	}))
	wantError(t, err, connect.CodeInvalidArgument, "INVALID_FIELD", 400)

	cancelled, err := h.appointments.CancelAppointment(context.Background(), connect.NewRequest(&groundcamv1.CancelAppointmentRequest{
		Id: a.GetId(), Reason: proto.String("Client requested reschedule"),
	}))
	if err != nil {
		t.Fatalf("CancelAppointment: %v", err)
	}
	if cancelled.Msg.GetStatus() != groundcamv1.AppointmentStatus_APPOINTMENT_STATUS_CANCELLED ||
		cancelled.Msg.GetCancellationReason() != "Client requested reschedule" || cancelled.Msg.GetCrmId() != "ODOO-1" {
		t.Errorf("cancel response = %v, want cancelled with the reason", cancelled.Msg)
	}
	if stored := h.simGet("/v1/appointments/" + a.GetId()); stored["status"] != "cancelled" {
		t.Errorf("stored status = %v, want cancelled", stored["status"])
	}

	_, err = h.appointments.CancelAppointment(context.Background(),
		connect.NewRequest(&groundcamv1.CancelAppointmentRequest{Id: a.GetId()}))
	cerr := wantError(t, err, connect.CodeFailedPrecondition, "INVALID_STATUS", 409)
	if cerr.Message() != "Appointment is already cancelled" {
		t.Errorf("message = %q, want the upstream's", cerr.Message())
	}
	_, err = h.appointments.UpdateAppointment(context.Background(), connect.NewRequest(&groundcamv1.UpdateAppointmentRequest{
		Id: a.GetId(), Notes: proto.String("too late"),
	}))
	wantError(t, err, connect.CodeFailedPrecondition, "INVALID_STATUS", 409)
}
