package server_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

var (
	sessionCreated   = groundcamv1.WebhookEventType_WEBHOOK_EVENT_TYPE_SESSION_CREATED
	sessionCompleted = groundcamv1.WebhookEventType_WEBHOOK_EVENT_TYPE_SESSION_COMPLETED
	webhookTest      = groundcamv1.WebhookEventType_WEBHOOK_EVENT_TYPE_WEBHOOK_TEST
)

// createWebhook registers an endpoint on the local receiver.
func (h *harness) createWebhook(path string) *groundcamv1.CreateWebhookResponse {
	h.t.Helper()
	res, err := h.webhooks.CreateWebhook(context.Background(), connect.NewRequest(&groundcamv1.CreateWebhookRequest{
		Url: h.hooks.url(path), Events: []groundcamv1.WebhookEventType{sessionCreated, sessionCompleted},
	}))
	if err != nil {
		h.t.Fatalf("CreateWebhook: %v", err)
	}
	return res.Msg
}

func TestCreateAndListWebhooks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	created := h.createWebhook("/crm")
	if created.GetSecret() == "" || !created.GetActive() || created.GetUrl() != h.hooks.url("/crm") {
		t.Errorf("created = %v, want an active endpoint with a secret", created)
	}

	list, err := h.webhooks.ListWebhooks(context.Background(), connect.NewRequest(&groundcamv1.ListWebhooksRequest{}))
	if err != nil {
		t.Fatalf("ListWebhooks: %v", err)
	}
	stored := h.simGet("/v1/webhooks")["webhooks"].([]any)
	if len(list.Msg.GetWebhooks()) != 1 || len(stored) != 1 {
		t.Fatalf("webhooks = %d listed, %d stored, want 1", len(list.Msg.GetWebhooks()), len(stored))
	}
	got, want := list.Msg.GetWebhooks()[0], stored[0].(map[string]any)
	if got.GetId() != want["id"] || got.GetUrl() != want["url"] ||
		!slices.Equal(got.GetEvents(), []groundcamv1.WebhookEventType{sessionCreated, sessionCompleted}) {
		t.Errorf("webhook = %v, want %v", got, want)
	}

	_, err = h.webhooks.CreateWebhook(context.Background(), connect.NewRequest(&groundcamv1.CreateWebhookRequest{
		Url: h.hooks.url("/crm"), Events: []groundcamv1.WebhookEventType{sessionCreated},
	}))
	wantError(t, err, connect.CodeAlreadyExists, "DUPLICATE_URL", 409)

	for i := range 9 {
		h.createWebhook("/extra/" + strconv.Itoa(i))
	}
	_, err = h.webhooks.CreateWebhook(context.Background(), connect.NewRequest(&groundcamv1.CreateWebhookRequest{
		Url: h.hooks.url("/eleventh"), Events: []groundcamv1.WebhookEventType{sessionCreated},
	}))
	wantError(t, err, connect.CodeResourceExhausted, "LIMIT_REACHED", 409)
}

func TestCreateWebhookLocalValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	tests := []struct {
		name    string
		req     *groundcamv1.CreateWebhookRequest
		reason  string
		message string
		fields  []string
	}{
		{
			name:    "http URL",
			req:     &groundcamv1.CreateWebhookRequest{Url: "http://crm.example/hook", Events: []groundcamv1.WebhookEventType{sessionCreated}},
			reason:  "INVALID_URL",
			message: "URL must use HTTPS",
			fields:  []string{"url"},
		},
		{
			name:    "no events",
			req:     &groundcamv1.CreateWebhookRequest{Url: h.hooks.url("/x")},
			reason:  "INVALID_FIELD",
			message: "events must contain at least one event",
			fields:  []string{"events"},
		},
		{
			name:    "test event",
			req:     &groundcamv1.CreateWebhookRequest{Url: h.hooks.url("/x"), Events: []groundcamv1.WebhookEventType{webhookTest}},
			reason:  "INVALID_EVENT",
			message: "Invalid event: webhook.test",
			fields:  []string{"events[0]"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.webhooks.CreateWebhook(context.Background(), connect.NewRequest(tc.req))
			cerr := wantError(t, err, connect.CodeInvalidArgument, tc.reason, 400)
			if cerr.Message() != tc.message {
				t.Errorf("message = %q, want %q", cerr.Message(), tc.message)
			}
			if got := badRequestFields(t, cerr); !slices.Equal(got, tc.fields) {
				t.Errorf("BadRequest fields = %v, want %v", got, tc.fields)
			}
		})
	}
	if n := h.sim.Calls()["POST /v1/webhooks"]; n != 0 {
		t.Errorf("the simulator received %d webhook creates, want none", n)
	}
}

func TestUpdateAndDeleteWebhook(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	id := h.createWebhook("/crm").GetId()

	res, err := h.webhooks.UpdateWebhook(context.Background(), connect.NewRequest(&groundcamv1.UpdateWebhookRequest{
		Id: id, Active: proto.Bool(false),
		Events: &groundcamv1.WebhookEventTypeList{Values: []groundcamv1.WebhookEventType{sessionCompleted}},
	}))
	if err != nil {
		t.Fatalf("UpdateWebhook: %v", err)
	}
	if res.Msg.GetWebhook().GetActive() {
		t.Error("webhook is still active")
	}
	stored := h.simGet("/v1/webhooks")["webhooks"].([]any)[0].(map[string]any)
	if stored["active"] != false || len(stored["events"].([]any)) != 1 || stored["events"].([]any)[0] != "session.completed" {
		t.Errorf("stored webhook = %v, want inactive with session.completed only", stored)
	}

	_, err = h.webhooks.UpdateWebhook(context.Background(), connect.NewRequest(&groundcamv1.UpdateWebhookRequest{Id: id}))
	wantError(t, err, connect.CodeInvalidArgument, "MISSING_FIELD", 400)

	deleted, err := h.webhooks.DeleteWebhook(context.Background(), connect.NewRequest(&groundcamv1.DeleteWebhookRequest{Id: id}))
	if err != nil {
		t.Fatalf("DeleteWebhook: %v", err)
	}
	if !deleted.Msg.GetDeleted() {
		t.Error("deleted = false, want true")
	}
	if stored := h.simGet("/v1/webhooks")["webhooks"].([]any); len(stored) != 0 {
		t.Errorf("simulator still stores %d webhooks", len(stored))
	}
	_, err = h.webhooks.DeleteWebhook(context.Background(), connect.NewRequest(&groundcamv1.DeleteWebhookRequest{Id: id}))
	cerr := wantError(t, err, connect.CodeNotFound, "NOT_FOUND", 404)
	if cerr.Message() != "Webhook not found" {
		t.Errorf("message = %q, want %q", cerr.Message(), "Webhook not found")
	}
}

func TestTestWebhookAndDeliveries(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	id := h.createWebhook("/crm").GetId()

	res, err := h.webhooks.TestWebhook(context.Background(), connect.NewRequest(&groundcamv1.TestWebhookRequest{Id: id}))
	if err != nil {
		t.Fatalf("TestWebhook: %v", err)
	}
	if !res.Msg.GetSuccess() || res.Msg.GetHttpStatus() != 200 || res.Msg.GetDeliveryId() == "" {
		t.Errorf("test result = %v, want a delivered test with status 200", res.Msg)
	}

	deliveries, err := h.webhooks.ListWebhookDeliveries(context.Background(),
		connect.NewRequest(&groundcamv1.ListWebhookDeliveriesRequest{Id: id, EventType: webhookTest, Limit: proto.Int32(5)}))
	if err != nil {
		t.Fatalf("ListWebhookDeliveries: %v", err)
	}
	list := deliveries.Msg.GetDeliveries()
	if len(list) != 1 || list[0].GetId() != res.Msg.GetDeliveryId() {
		t.Fatalf("deliveries = %v, want the test delivery %s", list, res.Msg.GetDeliveryId())
	}
	d := list[0]
	if d.GetStatus() != groundcamv1.WebhookDeliveryStatus_WEBHOOK_DELIVERY_STATUS_DELIVERED ||
		d.GetEventType() != webhookTest || d.GetPayload().GetData().GetFields()["webhookId"].GetStringValue() != id {
		t.Errorf("delivery = %v, want a delivered webhook.test for %s", d, id)
	}
	stored := h.simGet("/v1/webhooks/" + id + "/deliveries?eventType=webhook.test")["deliveries"].([]any)
	if len(stored) != 1 || stored[0].(map[string]any)["id"] != d.GetId() {
		t.Errorf("stored deliveries = %v, want the test delivery", stored)
	}

	_, err = h.webhooks.ListWebhookDeliveries(context.Background(),
		connect.NewRequest(&groundcamv1.ListWebhookDeliveriesRequest{Id: "missing"}))
	wantError(t, err, connect.CodeNotFound, "NOT_FOUND", 404)
	_, err = h.webhooks.TestWebhook(context.Background(), connect.NewRequest(&groundcamv1.TestWebhookRequest{Id: "missing"}))
	wantError(t, err, connect.CodeNotFound, "NOT_FOUND", 404)
}
