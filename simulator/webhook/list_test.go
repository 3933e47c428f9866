package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/groundcam/groundcam-gateway/simulator/webhook"
)

// ids returns the IDs of a page's deliveries.
func ids(page webhook.Page) []string {
	out := make([]string, len(page.Deliveries))
	for i, del := range page.Deliveries {
		out[i] = del.ID
	}
	return out
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	clock := clockwork.NewFakeClockAt(start)
	// The endpoint accepts the first three deliveries and rejects the rest.
	rcv := newReceiver(t, 200, 200, 200, 500)
	d := newDispatcher(t, clock, rcv)

	// d001..d006, one second apart; d001-d003 delivered, d004-d006 failed.
	events := []string{"session.created", "session.completed", "session.created",
		"appointment.updated", "session.created", "session.completed"}
	for _, event := range events {
		d.Send(rcv.target("wh1"), event, nil)
		d.Wait()
		clock.Advance(time.Second)
	}
	d.Send(rcv.target("wh2"), "session.created", nil)
	d.Wait()

	at := func(i int) time.Time { return start.Add(time.Duration(i-1) * time.Second) } // creation of d00i
	tests := []struct {
		name   string
		filter webhook.Filter
		want   []string
	}{
		{"all newest first", webhook.Filter{}, []string{"d006", "d005", "d004", "d003", "d002", "d001"}},
		{"status delivered", webhook.Filter{Status: webhook.StatusDelivered}, []string{"d003", "d002", "d001"}},
		{"status failed", webhook.Filter{Status: webhook.StatusFailed}, []string{"d006", "d005", "d004"}},
		{"status exhausted", webhook.Filter{Status: webhook.StatusExhausted}, []string{}},
		{"event type", webhook.Filter{EventType: "session.created"}, []string{"d005", "d003", "d001"}},
		{"created after inclusive", webhook.Filter{CreatedAfter: at(5)}, []string{"d006", "d005"}},
		{"created before inclusive", webhook.Filter{CreatedBefore: at(2)}, []string{"d002", "d001"}},
		{"created range", webhook.Filter{CreatedAfter: at(2), CreatedBefore: at(4)}, []string{"d004", "d003", "d002"}},
		{"combined", webhook.Filter{EventType: "session.created", Status: webhook.StatusFailed}, []string{"d005"}},
		{"after cursor", webhook.Filter{StartAfter: "d004"}, []string{"d003", "d002", "d001"}},
		{"after cursor with filter", webhook.Filter{StartAfter: "d005", EventType: "session.created"}, []string{"d003", "d001"}},
		{"unknown cursor", webhook.Filter{StartAfter: "nope"}, []string{}},
	}
	for _, tt := range tests {
		got := ids(d.List("wh1", tt.filter))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := ids(d.List("wh2", webhook.Filter{})); !slices.Equal(got, []string{"d007"}) {
		t.Errorf("log of wh2 = %v, want [d007]", got)
	}
	if page := d.List("unknown", webhook.Filter{}); len(page.Deliveries) != 0 || page.HasMore {
		t.Errorf("log of an unknown webhook = %+v, want empty", page)
	}
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	clock := clockwork.NewFakeClockAt(start)
	d := newDispatcher(t, clock, nil)

	// Data that is not a JSON object is recorded without an attempt, which
	// fills the log without network traffic.
	const total = 105
	for range total {
		d.Send(webhook.Target{WebhookID: "wh1", URL: closedURL(), Secret: "s"}, "session.created", "not an object")
	}

	tests := []struct {
		name  string
		limit int
		pages []int // sizes of the pages until HasMore is false
	}{
		{"default limit", 0, []int{20, 20, 20, 20, 20, 5}},
		{"limit 50", 50, []int{50, 50, 5}},
		{"limit above max", 500, []int{100, 5}},
		{"limit 1", 1, slices.Repeat([]int{1}, total)},
	}
	for _, tt := range tests {
		var all []string
		var sizes []int
		cursor := ""
		for {
			page := d.List("wh1", webhook.Filter{Limit: tt.limit, StartAfter: cursor})
			sizes = append(sizes, len(page.Deliveries))
			all = append(all, ids(page)...)
			if !page.HasMore {
				if page.NextCursor != "" {
					t.Errorf("%s: last page has cursor %q", tt.name, page.NextCursor)
				}
				break
			}
			if page.NextCursor != page.Deliveries[len(page.Deliveries)-1].ID {
				t.Errorf("%s: cursor %q is not the last ID of its page", tt.name, page.NextCursor)
			}
			cursor = page.NextCursor
		}
		if !slices.Equal(sizes, tt.pages) {
			t.Errorf("%s: page sizes %v, want %v", tt.name, sizes, tt.pages)
		}
		if len(all) != total || all[0] != fmt.Sprintf("d%03d", total) || all[total-1] != "d001" {
			t.Errorf("%s: paged %d deliveries from %v to %v, want d%03d to d001",
				tt.name, len(all), all[0], all[len(all)-1], total)
		}
	}
}

func TestEncodeErrorRecorded(t *testing.T) {
	t.Parallel()
	d := newDispatcher(t, clockwork.NewFakeClockAt(start), nil)
	got := d.Send(webhook.Target{WebhookID: "wh1", URL: closedURL()}, "session.created", []int{1})
	if got.Status != webhook.StatusExhausted || got.Attempts != 0 || got.NextAttemptAt != nil {
		t.Errorf("got %+v, want exhausted without attempts", got)
	}
	if got.LastError == nil || *got.LastError == "" {
		t.Error("lastError is empty, want the encoding error")
	}

	var nilMap map[string]any
	empty := d.Send(webhook.Target{WebhookID: "wh2", URL: closedURL()}, "session.created", nilMap)
	if string(empty.Payload.Data.(json.RawMessage)) != "{}" || empty.Status != webhook.StatusFailed {
		t.Errorf("nil map data gave %+v, want an empty object and an attempt under way", empty)
	}
	d.Forget("wh2")

	res := d.Test(t.Context(), webhook.Target{WebhookID: "wh1", URL: closedURL()}, make(chan int))
	if res.Success || res.Error == nil {
		t.Errorf("Test with unencodable data = %+v, want a failure with an error", res)
	}
}

func TestLogCapacity(t *testing.T) {
	t.Parallel()
	d := newDispatcher(t, clockwork.NewFakeClockAt(start), nil)
	const extra = 5
	for range webhook.LogCapacity + extra {
		d.Send(webhook.Target{WebhookID: "wh1"}, "session.created", "not an object")
	}

	var all []string
	cursor := ""
	for {
		page := d.List("wh1", webhook.Filter{Limit: webhook.MaxLimit, StartAfter: cursor})
		all = append(all, ids(page)...)
		if !page.HasMore {
			break
		}
		cursor = page.NextCursor
	}
	if len(all) != webhook.LogCapacity {
		t.Fatalf("log keeps %d deliveries, want %d", len(all), webhook.LogCapacity)
	}
	if newest, oldest := all[0], all[len(all)-1]; newest != "d1005" || oldest != "d006" {
		t.Errorf("log spans %s..%s, want d1005..d006", newest, oldest)
	}
}

func TestForgetStopsRetries(t *testing.T) {
	t.Parallel()
	clock := clockwork.NewFakeClockAt(start)
	rcv := newReceiver(t, http.StatusServiceUnavailable)
	d := newDispatcher(t, clock, rcv)

	d.Send(rcv.target("wh1"), "session.created", nil)
	d.Send(rcv.target("wh2"), "session.created", nil)
	d.Wait()
	d.Forget("wh1")
	d.Forget("never-used")

	if page := d.List("wh1", webhook.Filter{}); len(page.Deliveries) != 0 {
		t.Errorf("forgotten log has %d deliveries, want 0", len(page.Deliveries))
	}
	clock.Advance(time.Hour)
	d.Wait()
	if n := len(rcv.got()); n != 4 {
		t.Errorf("receiver got %d requests, want 1 for wh1 and 3 for wh2", n)
	}
	if got := only(t, d, "wh2"); got.Status != webhook.StatusExhausted || got.Attempts != 3 {
		t.Errorf("wh2 delivery = %s after %d attempts, want exhausted after 3", got.Status, got.Attempts)
	}
}

func TestForgetAbortsAttempt(t *testing.T) {
	t.Parallel()
	clock := clockwork.NewFakeClockAt(start)
	rcv := newHangingReceiver(t)
	d := newDispatcher(t, clock, rcv)

	d.Send(rcv.target("wh1"), "session.created", nil)
	rcv.awaitRequest(t)
	d.Forget("wh1")
	d.Wait() // returns because the attempt was aborted, not timed out

	// The aborted attempt scheduled no retry: the clock has no timer.
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := clock.BlockUntilContext(ctx, 1); err == nil {
		t.Error("a timer is set after Forget, want none")
	}

	clock.Advance(time.Hour)
	d.Wait()
	if n := len(rcv.got()); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
}
