package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Headers of every delivery request.
const (
	HeaderSignature = "X-GroundCam-Signature"
	HeaderTimestamp = "X-GroundCam-Timestamp"
	HeaderEvent     = "X-GroundCam-Event"
	HeaderDelivery  = "X-GroundCam-Delivery"
)

// errForgotten aborts the attempts in flight of a forgotten webhook.
var errForgotten = errors.New("webhook deleted")

// Sign returns the X-GroundCam-Signature value of body sent at timestamp (unix
// seconds): "sha256=" and the hex HMAC-SHA256 of "{timestamp}.{body}" keyed
// with secret.
func Sign(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether signature is the valid X-GroundCam-Signature of
// body at timestamp, comparing in constant time. It does not check the
// timestamp's age.
func Verify(secret, timestamp string, body []byte, signature string) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	return hmac.Equal([]byte(Sign(secret, ts, body)), []byte(signature))
}

// runAttempt runs the initial attempt on the webhook's own context.
func (d *Dispatcher) runAttempt(rec *record) {
	d.attempt(rec.log.ctx, rec, rec.d.CreatedAt)
}

// attempt posts rec once and records the outcome as an attempt made at
// scheduled: the creation time of an initial attempt, the NextAttemptAt of
// a retry. Recording the scheduled time keeps the retry spacing exact even
// when a timer fires late, for example when a fake clock jumps. The
// signature timestamp is the clock's time at sending.
//
// The caller has counted the attempt in d.active; attempt uncounts it when
// done. The attempt is aborted when parent ends, the attempt timeout passes
// on the clock, the webhook is forgotten or the dispatcher closes.
func (d *Dispatcher) attempt(parent context.Context, rec *record, scheduled time.Time) {
	defer d.attemptDone()

	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	stopLink := context.AfterFunc(rec.log.ctx, func() { cancel(context.Cause(rec.log.ctx)) })
	defer stopLink()
	timeout := fmt.Errorf("timeout: no response within %s", d.attemptTimeout)
	timer := d.clock.AfterFunc(d.attemptTimeout, func() { cancel(timeout) })
	defer timer.Stop()

	status, err := d.post(ctx, rec)

	d.mu.Lock()
	snapshot := d.recordOutcomeLocked(rec, scheduled, status, err)
	d.mu.Unlock()
	d.logOutcome(snapshot)
}

// attemptDone uncounts a finished attempt.
func (d *Dispatcher) attemptDone() {
	d.mu.Lock()
	d.active--
	d.idle.Broadcast()
	d.mu.Unlock()
}

// post sends one signed request and returns the response status, or the
// reason no response came back.
func (d *Dispatcher) post(ctx context.Context, rec *record) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rec.target.URL, bytes.NewReader(rec.body))
	if err != nil {
		return 0, fmt.Errorf("invalid webhook URL: %w", unwrapURLError(err))
	}
	ts := d.clock.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GroundCam-Webhooks")
	req.Header.Set(HeaderSignature, Sign(rec.target.Secret, ts, rec.body))
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderEvent, rec.d.EventType)
	req.Header.Set(HeaderDelivery, rec.d.ID)

	res, err := d.client.Do(req)
	if err != nil {
		// A cancelled attempt reports why it was cancelled, not "context canceled".
		if ctx.Err() != nil {
			return 0, context.Cause(ctx)
		}
		return 0, unwrapURLError(err)
	}
	drainBody(res.Body)
	return res.StatusCode, nil
}

// unwrapURLError drops the method and URL that *url.Error adds, so that the
// recorded error text does not repeat the endpoint URL.
func unwrapURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

// recordOutcomeLocked stores the outcome of the attempt that started at start
// and schedules the next one when the budget allows. It returns a snapshot
// for logging. The caller holds d.mu.
func (d *Dispatcher) recordOutcomeLocked(rec *record, start time.Time, status int, err error) Delivery {
	rec.d.Attempts++
	rec.d.LastAttemptAt = &start
	rec.d.NextAttemptAt = nil
	rec.d.HTTPStatus = nil
	rec.d.LastError = nil

	switch {
	case err != nil:
		msg := err.Error()
		rec.d.LastError = &msg
	case status >= 200 && status < 300:
		rec.d.HTTPStatus = &status
		rec.d.Status = StatusDelivered
		return rec.d.clone()
	default:
		rec.d.HTTPStatus = &status
		msg := fmt.Sprintf("HTTP %d", status)
		rec.d.LastError = &msg
	}
	d.scheduleRetryLocked(rec)
	return rec.d.clone()
}

// scheduleRetryLocked leaves rec failed with a retry timer, or exhausted when
// no retry may follow. The caller holds d.mu.
func (d *Dispatcher) scheduleRetryLocked(rec *record) {
	if d.closed || rec.dropped || rec.d.Attempts >= rec.d.MaxAttempts {
		d.finishLocked(rec, nil)
		return
	}
	delay := retryDelays[min(rec.d.Attempts, len(retryDelays))-1]
	next := rec.d.LastAttemptAt.Add(delay)
	if next.After(rec.d.DeadlineAt) {
		d.finishLocked(rec, nil)
		return
	}

	rec.d.Status = StatusFailed
	rec.d.NextAttemptAt = &next
	rec.timer = d.clock.AfterFunc(next.Sub(d.clock.Now()), func() { d.retry(rec) })
	d.pending[rec] = struct{}{}
}

// retry runs when rec's retry timer fires. The deadline was checked when the
// retry was scheduled, so a timer that fires late still runs its attempt.
func (d *Dispatcher) retry(rec *record) {
	d.mu.Lock()
	if _, ok := d.pending[rec]; !ok {
		// Cancelled after the timer fired.
		d.mu.Unlock()
		return
	}
	delete(d.pending, rec)
	rec.timer = nil
	scheduled := *rec.d.NextAttemptAt
	d.active++
	d.mu.Unlock()

	d.attempt(rec.log.ctx, rec, scheduled)
}

// logOutcome logs one finished attempt. The endpoint URL and secret are
// never logged.
func (d *Dispatcher) logOutcome(del Delivery) {
	attrs := []slog.Attr{
		slog.String("webhook_id", del.WebhookID),
		slog.String("delivery_id", del.ID),
		slog.String("event_type", del.EventType),
		slog.Int("attempt", del.Attempts),
		slog.Int("max_attempts", del.MaxAttempts),
		slog.String("status", string(del.Status)),
	}
	if del.HTTPStatus != nil {
		attrs = append(attrs, slog.Int("http_status", *del.HTTPStatus))
	}
	if del.Status == StatusDelivered {
		d.logger.LogAttrs(context.Background(), slog.LevelInfo, "webhook delivered", attrs...)
		return
	}
	if del.LastError != nil {
		attrs = append(attrs, slog.String("error", *del.LastError))
	}
	if del.NextAttemptAt != nil {
		attrs = append(attrs, slog.Time("next_attempt_at", *del.NextAttemptAt))
	}
	d.logger.LogAttrs(context.Background(), slog.LevelWarn, "webhook attempt failed", attrs...)
}
