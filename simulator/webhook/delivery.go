package webhook

import (
	"encoding/json"
	"fmt"
	"time"
)

// timeLayout is the wire format of every timestamp the engine writes:
// RFC 3339 in UTC with milliseconds, for example 2026-03-12T14:05:21.000Z.
const timeLayout = "2006-01-02T15:04:05.000Z"

// Target is the webhook endpoint a delivery goes to.
type Target struct {
	// WebhookID is the endpoint's identifier; the deliveries log is kept per WebhookID.
	WebhookID string
	// URL is the endpoint address that receives the envelope.
	URL string
	// Secret is the HMAC-SHA256 key of the X-GroundCam-Signature header.
	Secret string
}

// Status is the state of a delivery, as the contract's WebhookDelivery.status.
type Status string

// The delivery states. Delivered and exhausted are terminal; failed means a
// retry is scheduled at the delivery's NextAttemptAt.
const (
	StatusDelivered Status = "delivered"
	StatusFailed    Status = "failed"
	StatusExhausted Status = "exhausted"
)

// Valid reports whether s is one of the three delivery states.
func (s Status) Valid() bool {
	return s == StatusDelivered || s == StatusFailed || s == StatusExhausted
}

// Envelope is the JSON body posted to the endpoint:
// {"event": ..., "timestamp": ..., "data": ...}.
type Envelope struct {
	// Event is the event type, for example "session.completed" or "webhook.test".
	Event string
	// Timestamp is when the event happened; it is written in UTC with milliseconds.
	Timestamp time.Time
	// Data is the event-specific payload; it must marshal to a JSON object.
	Data any
}

// envelopeJSON is the wire form of [Envelope].
type envelopeJSON struct {
	Event     string `json:"event"`
	Timestamp string `json:"timestamp"`
	Data      any    `json:"data"`
}

// MarshalJSON writes the envelope with the timestamp as 2026-03-12T14:05:21.000Z.
func (e Envelope) MarshalJSON() ([]byte, error) {
	data := e.Data
	if data == nil {
		data = struct{}{}
	}
	return json.Marshal(envelopeJSON{
		Event:     e.Event,
		Timestamp: formatTime(e.Timestamp),
		Data:      data,
	})
}

// UnmarshalJSON reads an envelope; Data becomes the generic JSON value
// (usually a map[string]any), and any RFC 3339 timestamp is accepted.
func (e *Envelope) UnmarshalJSON(b []byte) error {
	var wire envelopeJSON
	if err := json.Unmarshal(b, &wire); err != nil {
		return fmt.Errorf("decode webhook envelope: %w", err)
	}
	ts, err := time.Parse(time.RFC3339Nano, wire.Timestamp)
	if err != nil {
		return fmt.Errorf("decode webhook envelope: invalid timestamp %q: %w", wire.Timestamp, err)
	}
	*e = Envelope{Event: wire.Event, Timestamp: ts.UTC(), Data: wire.Data}
	return nil
}

// Delivery is one event sent to one endpoint, with its retry lifecycle. The
// values returned by a [Dispatcher] are snapshots: later attempts do not
// change them.
type Delivery struct {
	// ID is the delivery identifier, also sent as X-GroundCam-Delivery.
	ID string
	// WebhookID is the endpoint the delivery belongs to; it is not part of the JSON form.
	WebhookID string
	// EventType is the event that triggered the delivery.
	EventType string
	// Status is the current state.
	Status Status
	// HTTPStatus is the status of the most recent attempt's response, nil
	// when no response came back (transport error or timeout) or before the
	// first attempt ends.
	HTTPStatus *int
	// Attempts is the number of attempts finished so far.
	Attempts int
	// MaxAttempts is the attempt budget: 3 for events, 1 for webhook.test.
	MaxAttempts int
	// LastError is "HTTP <status>" for a non-2xx response or the transport
	// error text, nil after a 2xx response or before the first attempt ends.
	LastError *string
	// LastAttemptAt is when the most recent attempt started.
	LastAttemptAt *time.Time
	// NextAttemptAt is when the scheduled retry runs; nil in a terminal state.
	NextAttemptAt *time.Time
	// DeadlineAt is 15 minutes after the initial attempt; no attempt starts later.
	DeadlineAt time.Time
	// CreatedAt is when the delivery was created, which is when the initial attempt starts.
	CreatedAt time.Time
	// Payload is the envelope posted to the endpoint.
	Payload Envelope
}

// deliveryJSON is the contract's WebhookDelivery object.
type deliveryJSON struct {
	ID            string   `json:"id"`
	EventType     string   `json:"eventType"`
	Status        Status   `json:"status"`
	HTTPStatus    *int     `json:"httpStatus"`
	Attempts      int      `json:"attempts"`
	MaxAttempts   int      `json:"maxAttempts"`
	LastError     *string  `json:"lastError"`
	LastAttemptAt *string  `json:"lastAttemptAt"`
	NextAttemptAt *string  `json:"nextAttemptAt"`
	DeadlineAt    string   `json:"deadlineAt"`
	CreatedAt     string   `json:"createdAt"`
	Payload       Envelope `json:"payload"`
}

// MarshalJSON writes the contract's WebhookDelivery object with every field
// present, unset ones as null.
func (d Delivery) MarshalJSON() ([]byte, error) {
	return json.Marshal(deliveryJSON{
		ID:            d.ID,
		EventType:     d.EventType,
		Status:        d.Status,
		HTTPStatus:    d.HTTPStatus,
		Attempts:      d.Attempts,
		MaxAttempts:   d.MaxAttempts,
		LastError:     d.LastError,
		LastAttemptAt: formatTimePtr(d.LastAttemptAt),
		NextAttemptAt: formatTimePtr(d.NextAttemptAt),
		DeadlineAt:    formatTime(d.DeadlineAt),
		CreatedAt:     formatTime(d.CreatedAt),
		Payload:       d.Payload,
	})
}

// clone returns a copy of d that shares no pointers with it.
func (d Delivery) clone() Delivery {
	d.HTTPStatus = clonePtr(d.HTTPStatus)
	d.LastError = clonePtr(d.LastError)
	d.LastAttemptAt = clonePtr(d.LastAttemptAt)
	d.NextAttemptAt = clonePtr(d.NextAttemptAt)
	return d
}

// Filter selects deliveries from the log. The zero Filter matches everything
// and returns the default page size.
type Filter struct {
	// Status keeps only deliveries in this state; "" keeps all.
	Status Status
	// EventType keeps only deliveries of this event type; "" keeps all.
	EventType string
	// CreatedAfter keeps deliveries created at or after it; zero means no bound.
	CreatedAfter time.Time
	// CreatedBefore keeps deliveries created at or before it; zero means no bound.
	CreatedBefore time.Time
	// StartAfter is the cursor: the ID of the last delivery of the previous
	// page. The page starts with the next older delivery that matches.
	StartAfter string
	// Limit is the page size, 1 to 100; 0 means [DefaultLimit], and values
	// above 100 are lowered to [MaxLimit].
	Limit int
}

// Page sizes of [Dispatcher.List].
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Page is one page of the deliveries log, newest first.
type Page struct {
	// Deliveries are the matching records, newest first.
	Deliveries []Delivery
	// HasMore reports whether older matching records follow.
	HasMore bool
	// NextCursor is the StartAfter value of the next page; "" when HasMore is false.
	NextCursor string
}

// TestResult is the outcome of a webhook.test delivery, as the contract's
// testWebhook response data.
type TestResult struct {
	// Success reports whether the endpoint responded with a 2xx status.
	Success bool
	// HTTPStatus is the endpoint's status, nil when no response came back.
	HTTPStatus *int
	// DeliveryID is the ID of the recorded delivery.
	DeliveryID string
	// Error is the transport error text when no response came back, else nil.
	Error *string
}

// testResultJSON is the wire form of [TestResult].
type testResultJSON struct {
	Success    bool    `json:"success"`
	HTTPStatus *int    `json:"httpStatus"`
	DeliveryID string  `json:"deliveryId"`
	Error      *string `json:"error"`
}

// MarshalJSON writes the contract's testWebhook data object, nulls included.
func (r TestResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(testResultJSON(r))
}

// formatTime writes t in UTC with milliseconds.
func formatTime(t time.Time) string {
	return t.UTC().Format(timeLayout)
}

// formatTimePtr is formatTime for an optional time; nil stays nil.
func formatTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := formatTime(*t)
	return &s
}

// clonePtr returns a pointer to a copy of *p, or nil.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
