package webhook_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"github.com/groundcam/groundcam-gateway/simulator/webhook"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// sessionData is the data of the session.created events in these tests.
var sessionData = map[string]any{"id": "Xk9mPq2rT4wZ", "status": "pending"}

const sessionBody = `{"event":"session.created","timestamp":"2026-03-12T14:05:21.000Z",` +
	`"data":{"id":"Xk9mPq2rT4wZ","status":"pending"}}`

func TestSendDelivered(t *testing.T) {
	t.Parallel()
	clock := clockwork.NewFakeClockAt(start)
	rcv := newReceiver(t, http.StatusOK)
	d := newDispatcher(t, clock, rcv)

	sent := d.Send(rcv.target("wh1"), "session.created", sessionData)
	want := webhook.Delivery{
		ID:            "d001",
		WebhookID:     "wh1",
		EventType:     "session.created",
		Status:        webhook.StatusFailed,
		MaxAttempts:   3,
		NextAttemptAt: ptr(start),
		DeadlineAt:    start.Add(15 * time.Minute),
		CreatedAt:     start,
		Payload:       webhook.Envelope{Event: "session.created", Timestamp: start, Data: json.RawMessage(`{"id":"Xk9mPq2rT4wZ","status":"pending"}`)},
	}
	checkDelivery(t, "returned by Send", sent, want)

	d.Wait()
	want.Status = webhook.StatusDelivered
	want.HTTPStatus = ptr(200)
	want.Attempts = 1
	want.LastAttemptAt = ptr(start)
	want.NextAttemptAt = nil
	checkDelivery(t, "after the attempt", only(t, d, "wh1"), want)

	reqs := rcv.got()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	req := reqs[0]
	if string(req.body) != sessionBody {
		t.Errorf("body = %s, want %s", req.body, sessionBody)
	}
	if !req.sigValid {
		t.Errorf("signature %q does not verify", req.header.Get(webhook.HeaderSignature))
	}
	headers := map[string]string{
		"Content-Type":          "application/json",
		webhook.HeaderEvent:     "session.created",
		webhook.HeaderDelivery:  "d001",
		webhook.HeaderTimestamp: strconv.FormatInt(start.Unix(), 10),
		webhook.HeaderSignature: webhook.Sign(rcv.secret, start.Unix(), []byte(sessionBody)),
	}
	for name, value := range headers {
		if got := req.header.Get(name); got != value {
			t.Errorf("header %s = %q, want %q", name, got, value)
		}
	}
}

func TestRetryUntilExhausted(t *testing.T) {
	t.Parallel()
	clock := clockwork.NewFakeClockAt(start)
	rcv := newReceiver(t, http.StatusInternalServerError)
	d := newDispatcher(t, clock, rcv)

	d.Send(rcv.target("wh1"), "session.created", sessionData)
	d.Wait()
	want := webhook.Delivery{
		ID:            "d001",
		WebhookID:     "wh1",
		EventType:     "session.created",
		Status:        webhook.StatusFailed,
		HTTPStatus:    ptr(500),
		Attempts:      1,
		MaxAttempts:   3,
		LastError:     ptr("HTTP 500"),
		LastAttemptAt: ptr(start),
		NextAttemptAt: ptr(start.Add(time.Minute)),
		DeadlineAt:    start.Add(15 * time.Minute),
		CreatedAt:     start,
		Payload:       webhook.Envelope{Event: "session.created", Timestamp: start, Data: json.RawMessage(`{"id":"Xk9mPq2rT4wZ","status":"pending"}`)},
	}
	checkDelivery(t, "after attempt 1", only(t, d, "wh1"), want)

	// Nothing happens before the retry is due.
	clock.Advance(59 * time.Second)
	d.Wait()
	checkDelivery(t, "before the retry", only(t, d, "wh1"), want)

	clock.Advance(time.Second)
	d.Wait()
	want.Attempts = 2
	want.LastAttemptAt = ptr(start.Add(time.Minute))
	want.NextAttemptAt = ptr(start.Add(6 * time.Minute))
	checkDelivery(t, "after attempt 2", only(t, d, "wh1"), want)

	clock.Advance(5 * time.Minute)
	d.Wait()
	want.Status = webhook.StatusExhausted
	want.Attempts = 3
	want.LastAttemptAt = ptr(start.Add(6 * time.Minute))
	want.NextAttemptAt = nil
	checkDelivery(t, "after attempt 3", only(t, d, "wh1"), want)

	clock.Advance(time.Hour)
	d.Wait()
	reqs := rcv.got()
	if len(reqs) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(reqs))
	}
	for i, offset := range []time.Duration{0, time.Minute, 6 * time.Minute} {
		ts := strconv.FormatInt(start.Add(offset).Unix(), 10)
		if got := reqs[i].header.Get(webhook.HeaderTimestamp); got != ts {
			t.Errorf("attempt %d: timestamp = %s, want %s", i+1, got, ts)
		}
		if !reqs[i].sigValid {
			t.Errorf("attempt %d: signature does not verify", i+1)
		}
		if got := reqs[i].header.Get(webhook.HeaderDelivery); got != "d001" {
			t.Errorf("attempt %d: delivery header = %q, want d001", i+1, got)
		}
		if string(reqs[i].body) != sessionBody {
			t.Errorf("attempt %d: body = %s, want the same envelope every time", i+1, reqs[i].body)
		}
	}
}

func TestRetryThenDelivered(t *testing.T) {
	t.Parallel()
	clock := clockwork.NewFakeClockAt(start)
	rcv := newReceiver(t, http.StatusBadGateway, http.StatusNoContent)
	d := newDispatcher(t, clock, rcv)

	d.Send(rcv.target("wh1"), "session.created", sessionData)
	d.Wait()
	if got := only(t, d, "wh1"); got.LastError == nil || *got.LastError != "HTTP 502" {
		t.Fatalf("after attempt 1: lastError = %v, want HTTP 502", got.LastError)
	}

	clock.Advance(time.Minute)
	d.Wait()
	got := only(t, d, "wh1")
	if got.Status != webhook.StatusDelivered {
		t.Errorf("status = %s, want delivered", got.Status)
	}
	if got.HTTPStatus == nil || *got.HTTPStatus != http.StatusNoContent {
		t.Errorf("httpStatus = %v, want 204", got.HTTPStatus)
	}
	if got.Attempts != 2 {
		t.Errorf("attempts = %d, want 2", got.Attempts)
	}
	if got.LastError != nil {
		t.Errorf("lastError = %q, want nil", *got.LastError)
	}
	if got.NextAttemptAt != nil {
		t.Errorf("nextAttemptAt = %v, want nil", *got.NextAttemptAt)
	}
}

func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	clock := clockwork.NewFakeClockAt(start)
	rcv := newHangingReceiver(t)
	d := newDispatcher(t, clock, rcv)

	d.Send(rcv.target("wh1"), "session.created", sessionData)
	// The attempt's timeout timer is the clock's only waiter.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatalf("attempt did not start: %v", err)
	}
	clock.Advance(10 * time.Second)
	d.Wait()

	got := only(t, d, "wh1")
	if got.Status != webhook.StatusFailed {
		t.Errorf("status = %s, want failed", got.Status)
	}
	if got.HTTPStatus != nil {
		t.Errorf("httpStatus = %d, want nil", *got.HTTPStatus)
	}
	if got.LastError == nil || *got.LastError != "timeout: no response within 10s" {
		t.Errorf("lastError = %v, want the timeout", got.LastError)
	}
	if got.NextAttemptAt == nil || !got.NextAttemptAt.Equal(start.Add(time.Minute)) {
		t.Errorf("nextAttemptAt = %v, want %v", got.NextAttemptAt, start.Add(time.Minute))
	}
}

func TestAttemptTimeoutOption(t *testing.T) {
	t.Parallel()
	clock := clockwork.NewFakeClockAt(start)
	rcv := newHangingReceiver(t)
	d := newDispatcher(t, clock, rcv, webhook.WithAttemptTimeout(2*time.Second))

	done := make(chan webhook.TestResult)
	go func() { done <- d.Test(context.Background(), rcv.target("wh1"), nil) }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatalf("attempt did not start: %v", err)
	}
	clock.Advance(2 * time.Second)
	res := <-done
	if res.Error == nil || *res.Error != "timeout: no response within 2s" {
		t.Errorf("error = %v, want the 2s timeout", res.Error)
	}
}

func TestTransportError(t *testing.T) {
	t.Parallel()
	url := closedURL()

	clock := clockwork.NewFakeClockAt(start)
	d := newDispatcher(t, clock, nil)
	d.Send(webhook.Target{WebhookID: "wh1", URL: url, Secret: "s"}, "session.created", sessionData)
	d.Wait()

	got := only(t, d, "wh1")
	if got.Status != webhook.StatusFailed {
		t.Errorf("status = %s, want failed", got.Status)
	}
	if got.HTTPStatus != nil {
		t.Errorf("httpStatus = %d, want nil", *got.HTTPStatus)
	}
	if got.LastError == nil || !strings.Contains(*got.LastError, "connection refused") {
		t.Errorf("lastError = %v, want a connection error", got.LastError)
	}
	if got.LastError != nil && strings.Contains(*got.LastError, url) {
		t.Errorf("lastError %q repeats the endpoint URL", *got.LastError)
	}
}

func TestTestWebhook(t *testing.T) {
	t.Parallel()
	unreachable := closedURL()

	tests := []struct {
		name        string
		status      int // 0 means unreachable
		wantSuccess bool
		wantStatus  webhook.Status
	}{
		{"success", http.StatusOK, true, webhook.StatusDelivered},
		{"endpoint error", http.StatusInternalServerError, false, webhook.StatusExhausted},
		{"connection failed", 0, false, webhook.StatusExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t, max(tt.status, 200))
			target := rcv.target("wh1")
			if tt.status == 0 {
				target.URL = unreachable
			}
			d := newDispatcher(t, clockwork.NewFakeClockAt(start), rcv)
			data := map[string]any{"message": "test", "webhookId": "wh1", "organizationId": "org1"}

			res := d.Test(context.Background(), target, data)
			checkTestResult(t, res, tt.status, tt.wantSuccess)

			got := only(t, d, "wh1")
			if got.ID != res.DeliveryID || got.EventType != "webhook.test" || got.MaxAttempts != 1 ||
				got.Attempts != 1 || got.Status != tt.wantStatus || got.NextAttemptAt != nil {
				t.Errorf("recorded %+v, want webhook.test %s with 1 of 1 attempts", got, tt.wantStatus)
			}
			if tt.status != 0 {
				if reqs := rcv.got(); len(reqs) != 1 || reqs[0].header.Get(webhook.HeaderEvent) != "webhook.test" {
					t.Errorf("receiver got %d requests, want one webhook.test", len(reqs))
				}
			}
		})
	}
}

// checkTestResult compares res with the contract's examples: an HTTP status
// and a null error when the endpoint responded, else a null status and the
// transport error.
func checkTestResult(t *testing.T, res webhook.TestResult, status int, success bool) {
	t.Helper()
	if res.Success != success {
		t.Errorf("success = %v, want %v", res.Success, success)
	}
	if res.DeliveryID != "d001" {
		t.Errorf("deliveryId = %q, want d001", res.DeliveryID)
	}
	if status == 0 {
		if res.HTTPStatus != nil || res.Error == nil || *res.Error == "" {
			t.Errorf("got httpStatus %v, error %v; want null and a transport error", res.HTTPStatus, res.Error)
		}
		return
	}
	if res.HTTPStatus == nil || *res.HTTPStatus != status || res.Error != nil {
		t.Errorf("got httpStatus %v, error %v; want %d and null", res.HTTPStatus, res.Error, status)
	}
}
