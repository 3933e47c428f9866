package webhook

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
)

// record is the mutable state of one delivery. Every field but target and
// body is guarded by Dispatcher.mu.
type record struct {
	d         Delivery
	target    Target
	body      []byte // the envelope JSON, the same for every attempt
	encodeErr error  // set when data could not be encoded; no attempt is made
	log       *webhookLog
	timer     clockwork.Timer // the scheduled retry, nil when none
	dropped   bool            // evicted from the log or forgotten; never retried
}

// webhookLog is the deliveries log of one webhook, oldest first.
type webhookLog struct {
	records []*record
	// ctx is cancelled when the webhook is forgotten or the dispatcher
	// closes, which aborts the webhook's attempts in flight.
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// newRecord builds the record of a new delivery created now. The payload's
// data is encoded once, so later changes to data by the caller do not leak
// into the record, and Payload.Data holds the encoded json.RawMessage.
func (d *Dispatcher) newRecord(t Target, event string, data any, maxAttempts int) *record {
	now := d.clock.Now().UTC().Truncate(time.Millisecond)
	rec := &record{target: t}
	rec.d = Delivery{
		ID:            d.nextID(),
		WebhookID:     t.WebhookID,
		EventType:     event,
		Status:        StatusFailed,
		MaxAttempts:   maxAttempts,
		NextAttemptAt: &now,
		DeadlineAt:    now.Add(DeliveryDeadline),
		CreatedAt:     now,
		Payload:       Envelope{Event: event, Timestamp: now},
	}

	raw, err := encodeData(data)
	if err != nil {
		rec.encodeErr = err
		return rec
	}
	rec.d.Payload.Data = raw
	rec.body, err = json.Marshal(rec.d.Payload)
	if err != nil {
		rec.encodeErr = fmt.Errorf("encode webhook envelope: %w", err)
	}
	return rec
}

// encodeData encodes an event's data, which must encode to a JSON object.
// Data that encodes to null, such as nil or a nil map, becomes {}.
func encodeData(data any) (json.RawMessage, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode webhook data: %w", err)
	}
	if string(raw) == "null" {
		return json.RawMessage("{}"), nil
	}
	if raw[0] != '{' {
		return nil, fmt.Errorf("encode webhook data: got %T, expected a value that encodes to a JSON object", data)
	}
	return raw, nil
}

// store appends rec to its webhook's log, creating the log on first use and
// dropping the oldest record past LogCapacity. The caller holds d.mu.
func (d *Dispatcher) store(rec *record) {
	log, ok := d.logs[rec.d.WebhookID]
	if !ok {
		log = &webhookLog{}
		log.ctx, log.cancel = context.WithCancelCause(d.ctx)
		d.logs[rec.d.WebhookID] = log
	}
	rec.log = log
	log.records = append(log.records, rec)
	if len(log.records) <= LogCapacity {
		return
	}

	// NOTE: a dropped record's pending retry is cancelled too, so a webhook
	// that receives more than LogCapacity events within a retry window loses
	// the retries of the oldest ones.
	oldest := log.records[0]
	oldest.dropped = true
	d.unscheduleLocked(oldest)
	n := copy(log.records, log.records[1:])
	log.records[n] = nil
	log.records = log.records[:n]
}

// finishLocked ends rec as exhausted without a further attempt. A non-nil
// err becomes its LastError. The caller holds d.mu.
func (d *Dispatcher) finishLocked(rec *record, err error) {
	rec.d.Status = StatusExhausted
	rec.d.NextAttemptAt = nil
	if err != nil {
		msg := err.Error()
		rec.d.LastError = &msg
	}
}

// unscheduleLocked cancels rec's retry timer, if any. The caller holds d.mu.
func (d *Dispatcher) unscheduleLocked(rec *record) {
	if rec.timer != nil {
		rec.timer.Stop()
		rec.timer = nil
	}
	if _, ok := d.pending[rec]; ok {
		delete(d.pending, rec)
		d.idle.Broadcast()
	}
}

// idAlphabet is the character set of generated delivery IDs.
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomID returns 12 random alphanumeric characters from crypto/rand.
func randomID() string {
	const size = 12
	id := make([]byte, 0, size)
	buf := make([]byte, 32)
	for len(id) < size {
		_, _ = rand.Read(buf) // crypto/rand.Read never returns an error
		for _, b := range buf {
			// 248 is the largest multiple of 62 below 256; rejecting the rest keeps the draw uniform.
			if b < 248 && len(id) < size {
				id = append(id, idAlphabet[int(b)%len(idAlphabet)])
			}
		}
	}
	return string(id)
}
