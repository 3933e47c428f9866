package fault_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/groundcam/groundcam-gateway/simulator/fault"
)

func TestNoRulePassesThrough(t *testing.T) {
	t.Parallel()
	s := newServer(t, plain)
	res, body, err := s.get(t.Context(), "/v1/sessions/x")
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || string(body) != backendBody {
		t.Errorf("got %d %s, want the backend's response", res.StatusCode, body)
	}
}

func TestStatusAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		rule        fault.Rule
		wantBody    string
		wantHeaders map[string]string
	}{
		{
			name:        "503 with JSON body",
			rule:        fault.Rule{Path: "/v1/sessions", Status: 503, Body: `{"error":{"message":"down","code":"UNAVAILABLE"}}`},
			wantBody:    `{"error":{"message":"down","code":"UNAVAILABLE"}}`,
			wantHeaders: map[string]string{"Content-Type": "application/json"},
		},
		{
			name:        "429 with Retry-After",
			rule:        fault.Rule{Path: "/v1/sessions", Status: 429, Header: map[string]string{"Retry-After": "7", "Content-Type": "text/plain"}, Body: "slow down"},
			wantBody:    "slow down",
			wantHeaders: map[string]string{"Retry-After": "7", "Content-Type": "text/plain"},
		},
		{
			name: "status without body",
			rule: fault.Rule{Path: "/v1/sessions", Status: 500},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, plain)
			s.add(t, tt.rule)
			res, body, err := s.get(t.Context(), "/v1/sessions")
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.rule.Status {
				t.Errorf("status = %d, want %d", res.StatusCode, tt.rule.Status)
			}
			if string(body) != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
			for name, value := range tt.wantHeaders {
				if got := res.Header.Get(name); got != value {
					t.Errorf("header %s = %q, want %q", name, got, value)
				}
			}
			if n := s.backend.Load(); n != 0 {
				t.Errorf("backend got %d requests, want 0", n)
			}
		})
	}
}

func TestMatching(t *testing.T) {
	t.Parallel()
	s := newServer(t, plain)
	s.add(t, fault.Rule{Method: "post", Path: "/v1/sessions", Status: 501})
	s.add(t, fault.Rule{Path: "/v1/sessions/*", Status: 502})
	s.add(t, fault.Rule{Path: "/v1/sessions/abc", Status: 503}) // shadowed by the prefix rule
	s.add(t, fault.Rule{Path: "/v1/credits", Status: 504})

	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/v1/sessions", 501},
		{http.MethodGet, "/v1/sessions", 200},
		{http.MethodGet, "/v1/sessions/abc", 502},
		{http.MethodDelete, "/v1/sessions/abc/cancel", 502},
		{http.MethodGet, "/v1/credits", 504},
		{http.MethodGet, "/v1/credits/more", 200},
		{http.MethodGet, "/v1/sessionsX", 200},
	}
	for _, tt := range tests {
		req, err := http.NewRequestWithContext(t.Context(), tt.method, s.srv.URL+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tt.want {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, res.StatusCode, tt.want)
		}
	}
}

func TestTimes(t *testing.T) {
	t.Parallel()
	s := newServer(t, plain)
	s.add(t, fault.Rule{Path: "/v1/credits", Times: 2, Status: 503})
	s.add(t, fault.Rule{Path: "/v1/credits", Status: 500})

	for i, want := range []int{503, 503, 500, 500} {
		res, _, err := s.get(t.Context(), "/v1/credits")
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != want {
			t.Errorf("request %d: status %d, want %d", i+1, res.StatusCode, want)
		}
		if i == 0 {
			if rules := s.inj.Rules(); len(rules) != 2 || rules[0].Times != 1 {
				t.Errorf("after one request: rules %+v, want the counted rule with 1 left", rules)
			}
		}
	}
	if rules := s.inj.Rules(); len(rules) != 1 || rules[0].Status != 500 {
		t.Errorf("rules %+v, want only the uncounted rule", rules)
	}
}

func TestTimesConcurrent(t *testing.T) {
	t.Parallel()
	s := newServer(t, plain)
	const faults, requests = 20, 60
	s.add(t, fault.Rule{Path: "/v1/credits", Times: faults, Status: 503})

	var wg sync.WaitGroup
	statuses := make(chan int, requests)
	for range requests {
		wg.Go(func() {
			res, _, err := s.get(context.Background(), "/v1/credits")
			if err != nil {
				t.Error(err)
				return
			}
			statuses <- res.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for status := range statuses {
		counts[status]++
	}
	if counts[503] != faults || counts[200] != requests-faults {
		t.Errorf("got %v, want %d×503 and %d×200", counts, faults, requests-faults)
	}
}

func TestReset(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{plain, tls1, h2} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, mode)
			s.add(t, fault.Rule{Path: "/v1/credits", Times: 1, Reset: true})
			_, _, err := s.get(t.Context(), "/v1/credits")
			if err == nil {
				t.Fatal("request succeeded, want a connection error")
			}
			t.Logf("client error: %v", err)
			if n := s.backend.Load(); n != 0 {
				t.Errorf("backend got %d requests, want 0", n)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{plain, tls1, h2} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, mode)
			s.add(t, fault.Rule{Path: "/v1/sessions/x", Truncate: 10})
			res, body, err := s.get(t.Context(), "/v1/sessions/x")
			if res == nil {
				t.Fatalf("no response: %v", err)
			}
			if res.StatusCode != http.StatusOK || res.ContentLength != int64(len(backendBody)) {
				t.Errorf("status %d, length %d; want 200 and the full length %d",
					res.StatusCode, res.ContentLength, len(backendBody))
			}
			if string(body) != backendBody[:10] {
				t.Errorf("body = %q, want the first 10 bytes", body)
			}
			switch {
			case mode != h2 && !errors.Is(err, io.ErrUnexpectedEOF):
				t.Errorf("read error = %v, want io.ErrUnexpectedEOF", err)
			case mode == h2 && err == nil:
				t.Error("read succeeded, want a stream error")
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	t.Parallel()
	s := newServer(t, plain)
	s.add(t, fault.Rule{Path: "/v1/sessions/x", Malformed: true})
	res, body, err := s.get(t.Context(), "/v1/sessions/x")
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("X-Backend") != "HTTP/1.1" {
		t.Errorf("status %d, X-Backend %q; want the backend's", res.StatusCode, res.Header.Get("X-Backend"))
	}
	if json.Valid(body) {
		t.Errorf("body %s is valid JSON", body)
	}
	if res.ContentLength != int64(len(body)) {
		t.Errorf("Content-Length %d, body %d bytes", res.ContentLength, len(body))
	}
}

func TestSlowBody(t *testing.T) {
	t.Parallel()
	s := newServer(t, h2)
	s.add(t, fault.Rule{Path: "/v1/sessions/x", SlowBody: time.Millisecond, ChunkSize: 7})
	res, body, err := s.get(t.Context(), "/v1/sessions/x")
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || string(body) != backendBody {
		t.Errorf("got %d %s, want the whole backend response", res.StatusCode, body)
	}
}

func TestSlowBodyClientGone(t *testing.T) {
	t.Parallel()
	s := newServer(t, plain)
	s.add(t, fault.Rule{Path: "/v1/sessions/x", SlowBody: time.Hour, ChunkSize: 1})
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.srv.URL+"/v1/sessions/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	first := make([]byte, 1)
	if _, err := io.ReadFull(res.Body, first); err != nil || first[0] != backendBody[0] {
		t.Fatalf("first chunk %q, %v; want %q", first, err, backendBody[:1])
	}
	cancel()
	await(t, s.finished, "the handler to stop after the client left")
}

func TestLatencyComposes(t *testing.T) {
	t.Parallel()
	s := newServer(t, plain)
	s.add(t, fault.Rule{Path: "/v1/credits", Latency: time.Millisecond, Status: 503})
	s.add(t, fault.Rule{Path: "/v1/tags", Latency: time.Millisecond})

	res, _, err := s.get(t.Context(), "/v1/credits")
	if err != nil || res.StatusCode != 503 {
		t.Errorf("latency with status: got %v, %v; want 503", res, err)
	}
	res, body, err := s.get(t.Context(), "/v1/tags")
	if err != nil || res.StatusCode != 200 || string(body) != backendBody {
		t.Errorf("latency alone: got %v, %v; want the backend's response", res, err)
	}
}

func TestLatencyClientGone(t *testing.T) {
	t.Parallel()
	s := newServer(t, plain)
	s.add(t, fault.Rule{Path: "/v1/credits", Latency: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, _, err := s.get(ctx, "/v1/credits")
		errc <- err
	}()
	await(t, s.entered, "the request")
	cancel()
	await(t, s.finished, "the handler to stop after the client left")
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("client error = %v, want context.Canceled", err)
	}
	if n := s.backend.Load(); n != 0 {
		t.Errorf("backend got %d requests, want 0", n)
	}
}

func TestHangReleasedByClient(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{plain, tls1, h2} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, mode)
			s.add(t, fault.Rule{Path: "/v1/credits", Hang: true})
			ctx, cancel := context.WithCancel(t.Context())
			errc := make(chan error, 1)
			go func() {
				_, _, err := s.get(ctx, "/v1/credits")
				errc <- err
			}()
			await(t, s.entered, "the request")
			cancel()
			await(t, s.finished, "the hanging handler to return")
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Errorf("client error = %v, want context.Canceled", err)
			}
		})
	}
}

func TestHangReleasedByClose(t *testing.T) {
	t.Parallel()
	s := newServer(t, plain)
	s.add(t, fault.Rule{Path: "/v1/credits", Hang: true})
	errc := make(chan error, 1)
	go func() {
		_, _, err := s.get(context.Background(), "/v1/credits")
		errc <- err
	}()
	await(t, s.entered, "the request")
	s.inj.Close()
	await(t, s.finished, "the hanging handler to return")
	if err := <-errc; err == nil {
		t.Error("request succeeded, want the aborted connection's error")
	}
}
