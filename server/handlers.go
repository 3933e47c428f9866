package server

import (
	"context"

	"connectrpc.com/connect"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/gen/groundcam/v1/groundcamv1connect"
)

// Each handler below forwards every RPC of one service to its upstream
// operation. The mapping itself is declared in the protos (HTTP rules and
// JSON options) and applied by the [Upstream].

// AgentHandler serves groundcam.v1.AgentService.
type AgentHandler struct {
	upstream Upstream
}

var _ groundcamv1connect.AgentServiceHandler = (*AgentHandler)(nil)

// ListAgents forwards to the upstream operation of AgentService.ListAgents.
func (h *AgentHandler) ListAgents(
	ctx context.Context,
	req *connect.Request[groundcamv1.ListAgentsRequest],
) (*connect.Response[groundcamv1.ListAgentsResponse], error) {
	return forward[groundcamv1.ListAgentsResponse](ctx, h.upstream, req)
}

// AppointmentHandler serves groundcam.v1.AppointmentService.
type AppointmentHandler struct {
	upstream Upstream
}

var _ groundcamv1connect.AppointmentServiceHandler = (*AppointmentHandler)(nil)

// CreateAppointment forwards to the upstream operation of AppointmentService.CreateAppointment.
func (h *AppointmentHandler) CreateAppointment(
	ctx context.Context,
	req *connect.Request[groundcamv1.CreateAppointmentRequest],
) (*connect.Response[groundcamv1.CreateAppointmentResponse], error) {
	return forward[groundcamv1.CreateAppointmentResponse](ctx, h.upstream, req)
}

// ListAppointments forwards to the upstream operation of AppointmentService.ListAppointments.
func (h *AppointmentHandler) ListAppointments(
	ctx context.Context,
	req *connect.Request[groundcamv1.ListAppointmentsRequest],
) (*connect.Response[groundcamv1.ListAppointmentsResponse], error) {
	return forward[groundcamv1.ListAppointmentsResponse](ctx, h.upstream, req)
}

// GetAppointment forwards to the upstream operation of AppointmentService.GetAppointment.
func (h *AppointmentHandler) GetAppointment(
	ctx context.Context,
	req *connect.Request[groundcamv1.GetAppointmentRequest],
) (*connect.Response[groundcamv1.GetAppointmentResponse], error) {
	return forward[groundcamv1.GetAppointmentResponse](ctx, h.upstream, req)
}

// UpdateAppointment forwards to the upstream operation of AppointmentService.UpdateAppointment.
func (h *AppointmentHandler) UpdateAppointment(
	ctx context.Context,
	req *connect.Request[groundcamv1.UpdateAppointmentRequest],
) (*connect.Response[groundcamv1.UpdateAppointmentResponse], error) {
	return forward[groundcamv1.UpdateAppointmentResponse](ctx, h.upstream, req)
}

// CancelAppointment forwards to the upstream operation of AppointmentService.CancelAppointment.
func (h *AppointmentHandler) CancelAppointment(
	ctx context.Context,
	req *connect.Request[groundcamv1.CancelAppointmentRequest],
) (*connect.Response[groundcamv1.CancelAppointmentResponse], error) {
	return forward[groundcamv1.CancelAppointmentResponse](ctx, h.upstream, req)
}

// GetAvailableAppointmentSlots forwards to the upstream operation of AppointmentService.GetAvailableAppointmentSlots.
func (h *AppointmentHandler) GetAvailableAppointmentSlots(
	ctx context.Context,
	req *connect.Request[groundcamv1.GetAvailableAppointmentSlotsRequest],
) (*connect.Response[groundcamv1.GetAvailableAppointmentSlotsResponse], error) {
	return forward[groundcamv1.GetAvailableAppointmentSlotsResponse](ctx, h.upstream, req)
}

// AuthHandler serves groundcam.v1.AuthService.
type AuthHandler struct {
	upstream Upstream
}

var _ groundcamv1connect.AuthServiceHandler = (*AuthHandler)(nil)

// VerifyApiKey forwards to the upstream operation of AuthService.VerifyApiKey.
func (h *AuthHandler) VerifyApiKey(
	ctx context.Context,
	req *connect.Request[groundcamv1.VerifyApiKeyRequest],
) (*connect.Response[groundcamv1.VerifyApiKeyResponse], error) {
	return forward[groundcamv1.VerifyApiKeyResponse](ctx, h.upstream, req)
}

// ConfigurationHandler serves groundcam.v1.ConfigurationService.
type ConfigurationHandler struct {
	upstream Upstream
}

var _ groundcamv1connect.ConfigurationServiceHandler = (*ConfigurationHandler)(nil)

// ListClosureTypes forwards to the upstream operation of ConfigurationService.ListClosureTypes.
func (h *ConfigurationHandler) ListClosureTypes(
	ctx context.Context,
	req *connect.Request[groundcamv1.ListClosureTypesRequest],
) (*connect.Response[groundcamv1.ListClosureTypesResponse], error) {
	return forward[groundcamv1.ListClosureTypesResponse](ctx, h.upstream, req)
}

// ListTags forwards to the upstream operation of ConfigurationService.ListTags.
func (h *ConfigurationHandler) ListTags(
	ctx context.Context,
	req *connect.Request[groundcamv1.ListTagsRequest],
) (*connect.Response[groundcamv1.ListTagsResponse], error) {
	return forward[groundcamv1.ListTagsResponse](ctx, h.upstream, req)
}

// CreditHandler serves groundcam.v1.CreditService.
type CreditHandler struct {
	upstream Upstream
}

var _ groundcamv1connect.CreditServiceHandler = (*CreditHandler)(nil)

// GetCredits forwards to the upstream operation of CreditService.GetCredits.
func (h *CreditHandler) GetCredits(
	ctx context.Context,
	req *connect.Request[groundcamv1.GetCreditsRequest],
) (*connect.Response[groundcamv1.GetCreditsResponse], error) {
	return forward[groundcamv1.GetCreditsResponse](ctx, h.upstream, req)
}

// OrganizationHandler serves groundcam.v1.OrganizationService.
type OrganizationHandler struct {
	upstream Upstream
}

var _ groundcamv1connect.OrganizationServiceHandler = (*OrganizationHandler)(nil)

// GetOrganization forwards to the upstream operation of OrganizationService.GetOrganization.
func (h *OrganizationHandler) GetOrganization(
	ctx context.Context,
	req *connect.Request[groundcamv1.GetOrganizationRequest],
) (*connect.Response[groundcamv1.GetOrganizationResponse], error) {
	return forward[groundcamv1.GetOrganizationResponse](ctx, h.upstream, req)
}

// SessionHandler serves groundcam.v1.SessionService.
type SessionHandler struct {
	upstream Upstream
}

var _ groundcamv1connect.SessionServiceHandler = (*SessionHandler)(nil)

// CreateSession forwards to the upstream operation of SessionService.CreateSession.
func (h *SessionHandler) CreateSession(
	ctx context.Context,
	req *connect.Request[groundcamv1.CreateSessionRequest],
) (*connect.Response[groundcamv1.CreateSessionResponse], error) {
	return forward[groundcamv1.CreateSessionResponse](ctx, h.upstream, req)
}

// CreateSessionsBulk forwards to the upstream operation of SessionService.CreateSessionsBulk.
func (h *SessionHandler) CreateSessionsBulk(
	ctx context.Context,
	req *connect.Request[groundcamv1.CreateSessionsBulkRequest],
) (*connect.Response[groundcamv1.CreateSessionsBulkResponse], error) {
	return forward[groundcamv1.CreateSessionsBulkResponse](ctx, h.upstream, req)
}

// ListSessions forwards to the upstream operation of SessionService.ListSessions.
func (h *SessionHandler) ListSessions(
	ctx context.Context,
	req *connect.Request[groundcamv1.ListSessionsRequest],
) (*connect.Response[groundcamv1.ListSessionsResponse], error) {
	return forward[groundcamv1.ListSessionsResponse](ctx, h.upstream, req)
}

// GetSession forwards to the upstream operation of SessionService.GetSession.
func (h *SessionHandler) GetSession(
	ctx context.Context,
	req *connect.Request[groundcamv1.GetSessionRequest],
) (*connect.Response[groundcamv1.GetSessionResponse], error) {
	return forward[groundcamv1.GetSessionResponse](ctx, h.upstream, req)
}

// UpdateSession forwards to the upstream operation of SessionService.UpdateSession.
func (h *SessionHandler) UpdateSession(
	ctx context.Context,
	req *connect.Request[groundcamv1.UpdateSessionRequest],
) (*connect.Response[groundcamv1.UpdateSessionResponse], error) {
	return forward[groundcamv1.UpdateSessionResponse](ctx, h.upstream, req)
}

// GenerateAgentAuthUrl forwards to the upstream operation of SessionService.GenerateAgentAuthUrl.
func (h *SessionHandler) GenerateAgentAuthUrl(
	ctx context.Context,
	req *connect.Request[groundcamv1.GenerateAgentAuthUrlRequest],
) (*connect.Response[groundcamv1.GenerateAgentAuthUrlResponse], error) {
	return forward[groundcamv1.GenerateAgentAuthUrlResponse](ctx, h.upstream, req)
}

// CancelSession forwards to the upstream operation of SessionService.CancelSession.
func (h *SessionHandler) CancelSession(
	ctx context.Context,
	req *connect.Request[groundcamv1.CancelSessionRequest],
) (*connect.Response[groundcamv1.CancelSessionResponse], error) {
	return forward[groundcamv1.CancelSessionResponse](ctx, h.upstream, req)
}

// ResendSessionSms forwards to the upstream operation of SessionService.ResendSessionSms.
func (h *SessionHandler) ResendSessionSms(
	ctx context.Context,
	req *connect.Request[groundcamv1.ResendSessionSmsRequest],
) (*connect.Response[groundcamv1.ResendSessionSmsResponse], error) {
	return forward[groundcamv1.ResendSessionSmsResponse](ctx, h.upstream, req)
}

// EndSession forwards to the upstream operation of SessionService.EndSession.
func (h *SessionHandler) EndSession(
	ctx context.Context,
	req *connect.Request[groundcamv1.EndSessionRequest],
) (*connect.Response[groundcamv1.EndSessionResponse], error) {
	return forward[groundcamv1.EndSessionResponse](ctx, h.upstream, req)
}

// GetSessionScreenshots forwards to the upstream operation of SessionService.GetSessionScreenshots.
func (h *SessionHandler) GetSessionScreenshots(
	ctx context.Context,
	req *connect.Request[groundcamv1.GetSessionScreenshotsRequest],
) (*connect.Response[groundcamv1.GetSessionScreenshotsResponse], error) {
	return forward[groundcamv1.GetSessionScreenshotsResponse](ctx, h.upstream, req)
}

// GetSessionRecordings forwards to the upstream operation of SessionService.GetSessionRecordings.
func (h *SessionHandler) GetSessionRecordings(
	ctx context.Context,
	req *connect.Request[groundcamv1.GetSessionRecordingsRequest],
) (*connect.Response[groundcamv1.GetSessionRecordingsResponse], error) {
	return forward[groundcamv1.GetSessionRecordingsResponse](ctx, h.upstream, req)
}

// StatisticsHandler serves groundcam.v1.StatisticsService.
type StatisticsHandler struct {
	upstream Upstream
}

var _ groundcamv1connect.StatisticsServiceHandler = (*StatisticsHandler)(nil)

// GetStats forwards to the upstream operation of StatisticsService.GetStats.
func (h *StatisticsHandler) GetStats(
	ctx context.Context,
	req *connect.Request[groundcamv1.GetStatsRequest],
) (*connect.Response[groundcamv1.GetStatsResponse], error) {
	return forward[groundcamv1.GetStatsResponse](ctx, h.upstream, req)
}

// WebhookHandler serves groundcam.v1.WebhookService.
type WebhookHandler struct {
	upstream Upstream
}

var _ groundcamv1connect.WebhookServiceHandler = (*WebhookHandler)(nil)

// CreateWebhook forwards to the upstream operation of WebhookService.CreateWebhook.
func (h *WebhookHandler) CreateWebhook(
	ctx context.Context,
	req *connect.Request[groundcamv1.CreateWebhookRequest],
) (*connect.Response[groundcamv1.CreateWebhookResponse], error) {
	return forward[groundcamv1.CreateWebhookResponse](ctx, h.upstream, req)
}

// ListWebhooks forwards to the upstream operation of WebhookService.ListWebhooks.
func (h *WebhookHandler) ListWebhooks(
	ctx context.Context,
	req *connect.Request[groundcamv1.ListWebhooksRequest],
) (*connect.Response[groundcamv1.ListWebhooksResponse], error) {
	return forward[groundcamv1.ListWebhooksResponse](ctx, h.upstream, req)
}

// DeleteWebhook forwards to the upstream operation of WebhookService.DeleteWebhook.
func (h *WebhookHandler) DeleteWebhook(
	ctx context.Context,
	req *connect.Request[groundcamv1.DeleteWebhookRequest],
) (*connect.Response[groundcamv1.DeleteWebhookResponse], error) {
	return forward[groundcamv1.DeleteWebhookResponse](ctx, h.upstream, req)
}

// UpdateWebhook forwards to the upstream operation of WebhookService.UpdateWebhook.
func (h *WebhookHandler) UpdateWebhook(
	ctx context.Context,
	req *connect.Request[groundcamv1.UpdateWebhookRequest],
) (*connect.Response[groundcamv1.UpdateWebhookResponse], error) {
	return forward[groundcamv1.UpdateWebhookResponse](ctx, h.upstream, req)
}

// TestWebhook forwards to the upstream operation of WebhookService.TestWebhook.
func (h *WebhookHandler) TestWebhook(
	ctx context.Context,
	req *connect.Request[groundcamv1.TestWebhookRequest],
) (*connect.Response[groundcamv1.TestWebhookResponse], error) {
	return forward[groundcamv1.TestWebhookResponse](ctx, h.upstream, req)
}

// ListWebhookDeliveries forwards to the upstream operation of WebhookService.ListWebhookDeliveries.
func (h *WebhookHandler) ListWebhookDeliveries(
	ctx context.Context,
	req *connect.Request[groundcamv1.ListWebhookDeliveriesRequest],
) (*connect.Response[groundcamv1.ListWebhookDeliveriesResponse], error) {
	return forward[groundcamv1.ListWebhookDeliveriesResponse](ctx, h.upstream, req)
}
