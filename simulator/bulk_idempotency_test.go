package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestBulkPartial(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sophie := h.agentID(h.acme, "Sophie Bernard")
	r := h.do("POST", "/v1/sessions/bulk", h.acme.Key, map[string]any{"sessions": []any{
		map[string]any{"clientPhone": "+33612345678", "agentId": sophie, "crmId": "B-1", "language": "en", "ttlMinutes": 15},
		map[string]any{"clientPhone": "bad", "agentId": sophie},
		map[string]any{"clientPhone": "+33698765432", "agentId": sophie, "sendSms": false, "mode": "screen", "clientEmail": "x@y.example"},
		"not an object",
		map[string]any{"agentId": sophie},
	}})
	want(t, r, http.StatusCreated, "")
	results := list(r.data(), "results")
	wantSuccess := []bool{true, false, true, false, false}
	wantCodes := []string{"", codeInvalidPhone, "", codeInvalidField, codeMissingField}
	for i, res := range results {
		item := res.(map[string]any)
		if int(num(item, "index")) != i || item["success"] != wantSuccess[i] {
			t.Errorf("result %d: %v", i, item)
		}
		if wantCodes[i] != "" && str(obj(item, "error"), "code") != wantCodes[i] {
			t.Errorf("result %d: error %v, want %s", i, item["error"], wantCodes[i])
		}
	}
	third := obj(results[2].(map[string]any), "session")
	if _, hasMode := third["mode"]; hasMode || str(obj(third, "sms"), "status") != "skipped" {
		t.Errorf("bulk session %v: want no mode field and a skipped SMS", third)
	}
	if summary := obj(r.data(), "summary"); num(summary, "total") != 5 || num(summary, "succeeded") != 2 ||
		num(summary, "failed") != 3 {
		t.Errorf("summary %v", summary)
	}
	// Bulk sessions use camera mode whatever mode the item requests.
	got := h.do("GET", "/v1/sessions/"+str(third, "id"), h.acme.Key, nil)
	if str(got.data(), "mode") != "camera" || got.data()["clientEmail"] != nil {
		t.Errorf("bulk session %s: want camera mode without clientEmail", got.body)
	}
}

func TestBulkAllFailed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.do("POST", "/v1/sessions/bulk", h.acme.Key, map[string]any{"sessions": []any{
		map[string]any{"clientPhone": "+33612345678", "agentId": "nobody"},
		map[string]any{"clientPhone": "+33612345678"},
	}})
	want(t, r, http.StatusBadRequest, "")
	checkBulkShape(t, r)
	if num(obj(r.data(), "summary"), "failed") != 2 {
		t.Errorf("summary %v", obj(r.data(), "summary"))
	}
}

func TestBulkStructure(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sophie := h.agentID(h.acme, "Sophie Bernard")
	eleven := make([]any, 11)
	for i := range eleven {
		eleven[i] = map[string]any{"clientPhone": "+33612345678", "agentId": sophie}
	}
	tests := []struct {
		name string
		body any
		code string
	}{
		{"empty", map[string]any{"sessions": []any{}}, codeInvalidField},
		{"eleven", map[string]any{"sessions": eleven}, codeTooManySessions},
		{"missing", map[string]any{}, codeMissingField},
		{"not an array", map[string]any{"sessions": "x"}, codeInvalidField},
		{"invalid JSON", "[", codeInvalidJSON},
	}
	for _, tt := range tests {
		r := h.do("POST", "/v1/sessions/bulk", h.acme.Key, tt.body)
		want(t, r, http.StatusBadRequest, tt.code)
	}

	// Bistro has two credits: three sessions need three up front.
	julie := h.agentID(h.bistro, "Julie Martin")
	three := []any{}
	for range 3 {
		three = append(three, map[string]any{"clientPhone": "+33612345678", "agentId": julie})
	}
	r := h.do("POST", "/v1/sessions/bulk", h.bistro.Key, map[string]any{"sessions": three})
	want(t, r, http.StatusPaymentRequired, codeInsufficientCredits)
	r = h.do("POST", "/v1/sessions/bulk", h.bistro.Key, map[string]any{"sessions": three[:2]})
	want(t, r, http.StatusCreated, "")
	if c := h.do("GET", "/v1/credits", h.bistro.Key, nil).data(); num(c, "available") != 0 {
		t.Errorf("available %v, want 0 after two sessions", c["available"])
	}
}

func TestIdempotentReplay(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := map[string]any{"clientPhone": "+33612345678", "agentId": h.agentID(h.acme, "Sophie Bernard"), "crmId": "IDEM"}

	first := h.do("POST", "/v1/sessions", h.acme.Key, body, "Idempotency-Key", "req-1")
	want(t, first, http.StatusCreated, "")
	h.clock.Advance(time.Hour)
	second := h.do("POST", "/v1/sessions", h.acme.Key, body, "X-Idempotency-Key", "req-1")
	want(t, second, http.StatusCreated, "")
	if !bytes.Equal(first.body, second.body) {
		t.Errorf("replay body differs:\n%s\n%s", first.body, second.body)
	}
	if second.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("Idempotent-Replayed %q, want true", second.header.Get("Idempotent-Replayed"))
	}
	if n := len(list(h.do("GET", "/v1/sessions?crmId=IDEM", h.acme.Key, nil).data(), "sessions")); n != 1 {
		t.Errorf("%d sessions with the key, want 1", n)
	}

	// Keys are per organization and per operation.
	other := h.do("POST", "/v1/sessions", h.bistro.Key, map[string]any{
		"clientPhone": "+33612345678", "agentId": h.agentID(h.bistro, "Julie Martin"),
	}, "Idempotency-Key", "req-1")
	want(t, other, http.StatusCreated, "")
	bulk := h.do("POST", "/v1/sessions/bulk", h.acme.Key, map[string]any{"sessions": []any{body}},
		"Idempotency-Key", "req-1")
	want(t, bulk, http.StatusConflict, codeIdempotencyConflict)

	// A failed request does not hold its key.
	bad := h.do("POST", "/v1/sessions", h.acme.Key, map[string]any{"agentId": "nobody", "clientPhone": "+33612345678"},
		"Idempotency-Key", "req-2")
	want(t, bad, http.StatusForbidden, codeAgentNotMember)
	want(t, h.do("POST", "/v1/sessions", h.acme.Key, body, "Idempotency-Key", "req-2"), http.StatusCreated, "")

	// After 24 hours the key is new again.
	h.clock.Advance(24 * time.Hour)
	third := h.do("POST", "/v1/sessions", h.acme.Key, body, "Idempotency-Key", "req-1")
	want(t, third, http.StatusCreated, "")
	if str(third.data(), "id") == str(first.data(), "id") {
		t.Errorf("key replayed after 24 hours")
	}

	long := make([]byte, 300)
	for i := range long {
		long[i] = 'k'
	}
	want(t, h.do("POST", "/v1/sessions", h.acme.Key, body, "Idempotency-Key", string(long)),
		http.StatusBadRequest, codeInvalidIdempotencyKey)
}

func TestIdempotencyInFlight(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/v1/sessions", "/v1/sessions/bulk"} {
		t.Run(path, func(t *testing.T) {
			h := newHarness(t, WithCreateDelay(5*time.Second))
			item := map[string]any{"clientPhone": "+33612345678", "agentId": h.agentID(h.acme, "Sophie Bernard")}
			var body any = item
			if path == "/v1/sessions/bulk" {
				body = map[string]any{"sessions": []any{item}}
			}

			var wg sync.WaitGroup
			var first result
			wg.Add(1)
			go func() {
				defer wg.Done()
				first = h.do("POST", path, h.acme.Key, body, "Idempotency-Key", "slow")
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := h.clock.BlockUntilContext(ctx, 1); err != nil {
				t.Fatalf("the first request never waited: %v", err)
			}

			r := h.do("POST", path, h.acme.Key, body, "Idempotency-Key", "slow")
			want(t, r, http.StatusConflict, codeIdempotencyConflict)
			if r.message() != "A request with this idempotency key is currently being processed" {
				t.Errorf("message %q", r.message())
			}

			h.clock.Advance(5 * time.Second)
			wg.Wait()
			want(t, first, http.StatusCreated, "")
			h.sim.SetCreateDelay(0)
			replay := h.do("POST", path, h.acme.Key, body, "Idempotency-Key", "slow")
			if !bytes.Equal(replay.body, first.body) {
				t.Errorf("replay %s, want %s", replay.body, first.body)
			}
		})
	}
}

func TestIdempotencyCancelledWhileWaiting(t *testing.T) {
	t.Parallel()
	h := newHarness(t, WithCreateDelay(time.Minute))
	body := map[string]any{"clientPhone": "+33612345678", "agentId": h.agentID(h.acme, "Sophie Bernard")}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctx, "POST", h.srv.URL+"/v1/sessions", bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+h.acme.Key)
		req.Header.Set("Idempotency-Key", "gone")
		if res, err := h.client.Do(req); err == nil {
			res.Body.Close()
		}
	}()
	waitCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if err := h.clock.BlockUntilContext(waitCtx, 1); err != nil {
		t.Fatalf("request never waited: %v", err)
	}
	cancel()
	<-done
	if err := blockUntilNoWaiters(waitCtx, h); err != nil {
		t.Fatalf("the abandoned request kept waiting: %v", err)
	}

	h.sim.SetCreateDelay(0)

	// The handler releases the key after it stops waiting on the clock, so
	// a retry right away may still see the reservation: poll until it is
	// gone, bounded by waitCtx.
	r := h.do("POST", "/v1/sessions", h.acme.Key, body, "Idempotency-Key", "gone")
	for r.status == http.StatusConflict && waitCtx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
		r = h.do("POST", "/v1/sessions", h.acme.Key, body, "Idempotency-Key", "gone")
	}
	want(t, r, http.StatusCreated, "")
}

// blockUntilNoWaiters waits until nothing waits on the fake clock.
func blockUntilNoWaiters(ctx context.Context, h *harness) error {
	return h.clock.BlockUntilContext(ctx, 0)
}
