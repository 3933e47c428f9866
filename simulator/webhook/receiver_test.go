package webhook_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/groundcam/groundcam-gateway/simulator/webhook"
)

// start is the fake clock's start: 2026-03-12T14:05:21Z.
var start = time.Date(2026, 3, 12, 14, 5, 21, 0, time.UTC)

// received is one request that a receiver got.
type received struct {
	header   http.Header
	body     []byte
	sigValid bool
}

// receiver is a TLS webhook endpoint that checks signatures and responds
// with scripted statuses.
type receiver struct {
	srv    *httptest.Server
	secret string

	mu       sync.Mutex
	requests []received
	statuses []int         // sent in order; the last one repeats
	hang     bool          // never respond until the client goes away
	release  chan struct{} // closed by unblock
	once     sync.Once
	arrived  chan struct{} // receives one value per request
}

// unblock releases hanging requests; it may be called more than once.
func (rcv *receiver) unblock() {
	rcv.once.Do(func() { close(rcv.release) })
}

// newReceiver starts a TLS receiver that responds with statuses in order.
func newReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	rcv := &receiver{
		secret:   "whsec_test_" + t.Name(),
		statuses: statuses,
		release:  make(chan struct{}),
		arrived:  make(chan struct{}, 1024),
	}
	rcv.srv = httptest.NewTLSServer(http.HandlerFunc(rcv.serve))
	t.Cleanup(rcv.srv.Close)
	t.Cleanup(rcv.unblock)
	return rcv
}

// newHangingReceiver starts a TLS receiver that never responds.
func newHangingReceiver(t *testing.T) *receiver {
	t.Helper()
	rcv := newReceiver(t, http.StatusOK)
	rcv.hang = true
	return rcv
}

func (rcv *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	valid := webhook.Verify(rcv.secret, r.Header.Get(webhook.HeaderTimestamp), body,
		r.Header.Get(webhook.HeaderSignature))

	rcv.mu.Lock()
	rcv.requests = append(rcv.requests, received{header: r.Header.Clone(), body: body, sigValid: valid})
	status := rcv.statuses[min(len(rcv.requests), len(rcv.statuses))-1]
	hang := rcv.hang
	rcv.mu.Unlock()
	rcv.arrived <- struct{}{}

	if hang {
		select {
		case <-r.Context().Done():
		case <-rcv.release:
		}
		// Drop the connection: a status written now could still reach a
		// client that is closing its side, and the endpoint never responds.
		panic(http.ErrAbortHandler)
	}
	w.WriteHeader(status)
}

// got returns a copy of the requests received so far.
func (rcv *receiver) got() []received {
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	return append([]received(nil), rcv.requests...)
}

// awaitRequest blocks until the receiver gets its next request.
func (rcv *receiver) awaitRequest(t *testing.T) {
	t.Helper()
	select {
	case <-rcv.arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("receiver got no request within 30s")
	}
}

// target returns the receiver as a webhook target.
func (rcv *receiver) target(id string) webhook.Target {
	return webhook.Target{WebhookID: id, URL: rcv.srv.URL + "/hooks", Secret: rcv.secret}
}

// sequentialIDs returns an ID generator of d001, d002, ...
func sequentialIDs() func() string {
	var mu sync.Mutex
	n := 0
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("d%03d", n)
	}
}

// newDispatcher returns a dispatcher on clock that trusts rcv's certificate
// and is closed when the test ends.
func newDispatcher(t *testing.T, clock clockwork.Clock, rcv *receiver, opts ...webhook.Option) *webhook.Dispatcher {
	t.Helper()
	base := []webhook.Option{webhook.WithClock(clock), webhook.WithIDs(sequentialIDs())}
	if rcv != nil {
		base = append(base, webhook.WithHTTPClient(rcv.srv.Client()))
	}
	d := webhook.New(append(base, opts...)...)
	t.Cleanup(d.Close)
	return d
}

// only returns the single delivery of a webhook's log.
func only(t *testing.T, d *webhook.Dispatcher, webhookID string) webhook.Delivery {
	t.Helper()
	page := d.List(webhookID, webhook.Filter{})
	if len(page.Deliveries) != 1 {
		t.Fatalf("log of %s has %d deliveries, want 1", webhookID, len(page.Deliveries))
	}
	return page.Deliveries[0]
}

// checkDelivery compares every field of got with want, through the JSON
// form (which covers all fields but WebhookID) and WebhookID.
func checkDelivery(t *testing.T, step string, got, want webhook.Delivery) {
	t.Helper()
	gotJSON, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("%s: delivery\n got %s\nwant %s", step, gotJSON, wantJSON)
	}
	if got.WebhookID != want.WebhookID {
		t.Errorf("%s: WebhookID = %q, want %q", step, got.WebhookID, want.WebhookID)
	}
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// deref returns *p, or "<nil>".
func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// closedURL returns the URL of a test server that was closed, so nothing
// listens there any more.
func closedURL() string {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	return url
}
