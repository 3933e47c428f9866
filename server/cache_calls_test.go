package server

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/gen/groundcam/v1/groundcamv1connect"
)

// The calls below are the RPCs that the cache tests send, each in its
// Connect form and its REST form. The two forms carry the same request.

func callGetOrganization() cacheCall {
	return cacheCall{
		name: "GetOrganization", route: "GET /v1/organization",
		method: http.MethodGet, path: "/v1/organization",
		connect: connectRPC[groundcamv1.GetOrganizationResponse](
			groundcamv1connect.OrganizationServiceGetOrganizationProcedure, &groundcamv1.GetOrganizationRequest{}),
	}
}

func callGetCredits() cacheCall {
	return cacheCall{
		name: "GetCredits", route: "GET /v1/credits",
		method: http.MethodGet, path: "/v1/credits",
		connect: connectRPC[groundcamv1.GetCreditsResponse](
			groundcamv1connect.CreditServiceGetCreditsProcedure, &groundcamv1.GetCreditsRequest{}),
	}
}

func callVerifyAPIKey() cacheCall {
	return cacheCall{
		name: "VerifyApiKey", route: "GET /v1/auth/verify",
		method: http.MethodGet, path: "/v1/auth/verify",
		connect: connectRPC[groundcamv1.VerifyApiKeyResponse](
			groundcamv1connect.AuthServiceVerifyApiKeyProcedure, &groundcamv1.VerifyApiKeyRequest{}),
	}
}

func callListAgents() cacheCall {
	return cacheCall{
		name: "ListAgents", route: "GET /v1/agents",
		method: http.MethodGet, path: "/v1/agents",
		connect: connectRPC[groundcamv1.ListAgentsResponse](
			groundcamv1connect.AgentServiceListAgentsProcedure, &groundcamv1.ListAgentsRequest{}),
	}
}

func callListClosureTypes() cacheCall {
	return cacheCall{
		name: "ListClosureTypes", route: "GET /v1/closure-types",
		method: http.MethodGet, path: "/v1/closure-types",
		connect: connectRPC[groundcamv1.ListClosureTypesResponse](
			groundcamv1connect.ConfigurationServiceListClosureTypesProcedure, &groundcamv1.ListClosureTypesRequest{}),
	}
}

func callListTags() cacheCall {
	return cacheCall{
		name: "ListTags", route: "GET /v1/tags",
		method: http.MethodGet, path: "/v1/tags",
		connect: connectRPC[groundcamv1.ListTagsResponse](
			groundcamv1connect.ConfigurationServiceListTagsProcedure, &groundcamv1.ListTagsRequest{}),
	}
}

func callGetStats() cacheCall {
	return cacheCall{
		name: "GetStats", route: "GET /v1/stats",
		method: http.MethodGet, path: "/v1/stats?period=day",
		connect: connectRPC[groundcamv1.GetStatsResponse](
			groundcamv1connect.StatisticsServiceGetStatsProcedure,
			&groundcamv1.GetStatsRequest{Period: groundcamv1.StatsPeriod_STATS_PERIOD_DAY}),
	}
}

func callListSessions() cacheCall {
	return cacheCall{
		name: "ListSessions", route: "GET /v1/sessions",
		method: http.MethodGet, path: "/v1/sessions",
		connect: connectRPC[groundcamv1.ListSessionsResponse](
			groundcamv1connect.SessionServiceListSessionsProcedure, &groundcamv1.ListSessionsRequest{}),
	}
}

// callListSessionsLimit lists one page of limit sessions, a request that
// differs from [callListSessions] and from other limits.
func callListSessionsLimit(limit int32) cacheCall {
	return cacheCall{
		name: fmt.Sprintf("ListSessions(limit %d)", limit), route: "GET /v1/sessions",
		method: http.MethodGet, path: fmt.Sprintf("/v1/sessions?limit=%d", limit),
		connect: connectRPC[groundcamv1.ListSessionsResponse](
			groundcamv1connect.SessionServiceListSessionsProcedure,
			&groundcamv1.ListSessionsRequest{Limit: proto.Int32(limit)}),
	}
}

func callGetSession(id string) cacheCall {
	return cacheCall{
		name: "GetSession", route: "GET /v1/sessions/{id}",
		method: http.MethodGet, path: "/v1/sessions/" + url.PathEscape(id),
		connect: connectRPC[groundcamv1.GetSessionResponse](
			groundcamv1connect.SessionServiceGetSessionProcedure, &groundcamv1.GetSessionRequest{Id: id}),
	}
}

func callGetSessionScreenshots(id string) cacheCall {
	return cacheCall{
		name: "GetSessionScreenshots", route: "GET /v1/sessions/{id}/screenshots",
		method: http.MethodGet, path: "/v1/sessions/" + url.PathEscape(id) + "/screenshots",
		connect: connectRPC[groundcamv1.GetSessionScreenshotsResponse](
			groundcamv1connect.SessionServiceGetSessionScreenshotsProcedure,
			&groundcamv1.GetSessionScreenshotsRequest{Id: id}),
	}
}

func callCreateSession(agentID string) cacheCall {
	return cacheCall{
		name: "CreateSession", route: "POST /v1/sessions",
		method: http.MethodPost, path: "/v1/sessions",
		body: fmt.Sprintf(`{"agentId": %q, "clientPhone": "+33612345678", "clientName": %q, "sendSms": false}`,
			agentID, testClientName),
		connect: connectRPC[groundcamv1.CreateSessionResponse](
			groundcamv1connect.SessionServiceCreateSessionProcedure,
			&groundcamv1.CreateSessionRequest{
				AgentId: agentID, ClientPhone: proto.String("+33612345678"),
				ClientName: proto.String(testClientName), SendSms: proto.Bool(false),
			}),
	}
}

func callUpdateSessionNotes(id, notes string) cacheCall {
	return cacheCall{
		name: "UpdateSession", route: "PATCH /v1/sessions/{id}",
		method: http.MethodPatch, path: "/v1/sessions/" + url.PathEscape(id),
		body: fmt.Sprintf(`{"notes": %q}`, notes),
		connect: connectRPC[groundcamv1.UpdateSessionResponse](
			groundcamv1connect.SessionServiceUpdateSessionProcedure,
			&groundcamv1.UpdateSessionRequest{
				Id: id, Notes: &groundcamv1.NullableString{Value: proto.String(notes)},
			}),
	}
}

func callEndSession(id string) cacheCall {
	return cacheCall{
		name: "EndSession", route: "POST /v1/sessions/{id}/end",
		method: http.MethodPost, path: "/v1/sessions/" + url.PathEscape(id) + "/end", body: `{}`,
		connect: connectRPC[groundcamv1.EndSessionResponse](
			groundcamv1connect.SessionServiceEndSessionProcedure, &groundcamv1.EndSessionRequest{Id: id}),
	}
}

func callListAppointments() cacheCall {
	return cacheCall{
		name: "ListAppointments", route: "GET /v1/appointments",
		method: http.MethodGet, path: "/v1/appointments",
		connect: connectRPC[groundcamv1.ListAppointmentsResponse](
			groundcamv1connect.AppointmentServiceListAppointmentsProcedure, &groundcamv1.ListAppointmentsRequest{}),
	}
}

func callGetAppointment(id string) cacheCall {
	return cacheCall{
		name: "GetAppointment", route: "GET /v1/appointments/{id}",
		method: http.MethodGet, path: "/v1/appointments/" + url.PathEscape(id),
		connect: connectRPC[groundcamv1.GetAppointmentResponse](
			groundcamv1connect.AppointmentServiceGetAppointmentProcedure, &groundcamv1.GetAppointmentRequest{Id: id}),
	}
}

// testClientName is the client name of the sessions and appointments that
// the tests create, so reads can show whether they list them.
const testClientName = "Cache Test Client"

// appointmentDay is the day of the appointments that the tests create: the
// working day after the simulator's start.
const appointmentDay = "2026-03-13"

func callGetAvailableSlots(agentID string) cacheCall {
	return cacheCall{
		name: "GetAvailableAppointmentSlots", route: "GET /v1/appointments/available-slots",
		method: http.MethodGet,
		path:   "/v1/appointments/available-slots?agentId=" + url.QueryEscape(agentID) + "&date=" + appointmentDay,
		connect: connectRPC[groundcamv1.GetAvailableAppointmentSlotsResponse](
			groundcamv1connect.AppointmentServiceGetAvailableAppointmentSlotsProcedure,
			&groundcamv1.GetAvailableAppointmentSlotsRequest{AgentId: agentID, Date: appointmentDay}),
	}
}

// callCreateAppointment schedules a 15-minute appointment at hour:00 UTC
// on [appointmentDay].
func callCreateAppointment(agentID string, hour int) cacheCall {
	day, _ := time.Parse(time.DateOnly, appointmentDay)
	scheduled := day.Add(time.Duration(hour) * time.Hour)
	at := scheduled.Format("2006-01-02T15:04:05.000Z")
	return cacheCall{
		name: "CreateAppointment", route: "POST /v1/appointments",
		method: http.MethodPost, path: "/v1/appointments",
		body: fmt.Sprintf(`{"agentId": %q, "clientPhone": "+33612345678", "clientName": %q, `+
			`"scheduledAt": %q, "durationMinutes": 15}`, agentID, testClientName, at),
		connect: connectRPC[groundcamv1.CreateAppointmentResponse](
			groundcamv1connect.AppointmentServiceCreateAppointmentProcedure,
			&groundcamv1.CreateAppointmentRequest{
				AgentId: agentID, ClientPhone: proto.String("+33612345678"),
				ClientName:  proto.String(testClientName),
				ScheduledAt: timestamppb.New(scheduled), DurationMinutes: 15,
			}),
	}
}

func callUpdateAppointmentNotes(id, notes string) cacheCall {
	return cacheCall{
		name: "UpdateAppointment", route: "PATCH /v1/appointments/{id}",
		method: http.MethodPatch, path: "/v1/appointments/" + url.PathEscape(id),
		body: fmt.Sprintf(`{"notes": %q}`, notes),
		connect: connectRPC[groundcamv1.UpdateAppointmentResponse](
			groundcamv1connect.AppointmentServiceUpdateAppointmentProcedure,
			&groundcamv1.UpdateAppointmentRequest{Id: id, Notes: proto.String(notes)}),
	}
}

func callCancelAppointment(id string) cacheCall {
	return cacheCall{
		name: "CancelAppointment", route: "POST /v1/appointments/{id}/cancel",
		method: http.MethodPost, path: "/v1/appointments/" + url.PathEscape(id) + "/cancel", body: `{}`,
		connect: connectRPC[groundcamv1.CancelAppointmentResponse](
			groundcamv1connect.AppointmentServiceCancelAppointmentProcedure,
			&groundcamv1.CancelAppointmentRequest{Id: id}),
	}
}

func callListWebhooks() cacheCall {
	return cacheCall{
		name: "ListWebhooks", route: "GET /v1/webhooks",
		method: http.MethodGet, path: "/v1/webhooks",
		connect: connectRPC[groundcamv1.ListWebhooksResponse](
			groundcamv1connect.WebhookServiceListWebhooksProcedure, &groundcamv1.ListWebhooksRequest{}),
	}
}

func callListWebhookDeliveries(id string) cacheCall {
	return cacheCall{
		name: "ListWebhookDeliveries", route: "GET /v1/webhooks/{id}/deliveries",
		method: http.MethodGet, path: "/v1/webhooks/" + url.PathEscape(id) + "/deliveries",
		connect: connectRPC[groundcamv1.ListWebhookDeliveriesResponse](
			groundcamv1connect.WebhookServiceListWebhookDeliveriesProcedure,
			&groundcamv1.ListWebhookDeliveriesRequest{Id: id}),
	}
}

func callCreateWebhook(endpoint string) cacheCall {
	return cacheCall{
		name: "CreateWebhook", route: "POST /v1/webhooks",
		method: http.MethodPost, path: "/v1/webhooks",
		body: fmt.Sprintf(`{"url": %q, "events": ["session.created"]}`, endpoint),
		connect: connectRPC[groundcamv1.CreateWebhookResponse](
			groundcamv1connect.WebhookServiceCreateWebhookProcedure,
			&groundcamv1.CreateWebhookRequest{
				Url:    endpoint,
				Events: []groundcamv1.WebhookEventType{groundcamv1.WebhookEventType_WEBHOOK_EVENT_TYPE_SESSION_CREATED},
			}),
	}
}

func callDeactivateWebhook(id string) cacheCall {
	return cacheCall{
		name: "UpdateWebhook", route: "PATCH /v1/webhooks/{id}",
		method: http.MethodPatch, path: "/v1/webhooks/" + url.PathEscape(id), body: `{"active": false}`,
		connect: connectRPC[groundcamv1.UpdateWebhookResponse](
			groundcamv1connect.WebhookServiceUpdateWebhookProcedure,
			&groundcamv1.UpdateWebhookRequest{Id: id, Active: proto.Bool(false)}),
	}
}

func callDeleteWebhook(id string) cacheCall {
	return cacheCall{
		name: "DeleteWebhook", route: "DELETE /v1/webhooks/{id}",
		method: http.MethodDelete, path: "/v1/webhooks/" + url.PathEscape(id),
		connect: connectRPC[groundcamv1.DeleteWebhookResponse](
			groundcamv1connect.WebhookServiceDeleteWebhookProcedure, &groundcamv1.DeleteWebhookRequest{Id: id}),
	}
}

func callTestWebhook(id string) cacheCall {
	return cacheCall{
		name: "TestWebhook", route: "POST /v1/webhooks/{id}/test",
		method: http.MethodPost, path: "/v1/webhooks/" + url.PathEscape(id) + "/test",
		connect: connectRPC[groundcamv1.TestWebhookResponse](
			groundcamv1connect.WebhookServiceTestWebhookProcedure, &groundcamv1.TestWebhookRequest{Id: id}),
	}
}
