package simulator

import (
	"net/http"
	"sync"
	"time"
)

// requestRingSize is how many recent /v1 requests the recorder keeps.
const requestRingSize = 256

// CallsTotalKey is the key of [Server.Calls] that counts every /v1 request.
const CallsTotalKey = "total"

// RecordedRequest is one /v1 request as the simulator received it.
type RecordedRequest struct {
	// Method is the HTTP method.
	Method string `json:"method"`
	// Path is the request path without the query.
	Path string `json:"path"`
	// Route is the call counter key, such as "GET /v1/sessions/{id}".
	Route string `json:"route"`
	// Header is a copy of the request headers.
	Header http.Header `json:"header"`
	// ReceivedAt is the simulator clock's time of arrival.
	ReceivedAt time.Time `json:"receivedAt"`
}

// recorder counts /v1 requests per route and keeps the latest ones. It is
// safe for concurrent use.
type recorder struct {
	mu    sync.Mutex
	calls map[string]int
	last  map[string]http.Header
	ring  []RecordedRequest // oldest first once full, rotated by next
	next  int
}

// newRecorder returns an empty recorder.
func newRecorder() *recorder {
	return &recorder{calls: map[string]int{}, last: map[string]http.Header{}}
}

// record counts r under route and stores its headers.
func (rec *recorder) record(r *http.Request, route string, now time.Time) {
	entry := RecordedRequest{
		Method: r.Method, Path: r.URL.Path, Route: route,
		Header: r.Header.Clone(), ReceivedAt: now.UTC(),
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.calls[route]++
	rec.calls[CallsTotalKey]++
	rec.last[route] = entry.Header
	if len(rec.ring) < requestRingSize {
		rec.ring = append(rec.ring, entry)
		return
	}
	rec.ring[rec.next] = entry
	rec.next = (rec.next + 1) % requestRingSize
}

// counts returns a copy of the counters.
func (rec *recorder) counts() map[string]int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := make(map[string]int, len(rec.calls)+1)
	for k, v := range rec.calls {
		out[k] = v
	}
	out[CallsTotalKey] = rec.calls[CallsTotalKey]
	return out
}

// reset clears the counters, the last headers and the recent requests.
func (rec *recorder) reset() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	clear(rec.calls)
	clear(rec.last)
	rec.ring = nil
	rec.next = 0
}

// lastHeader returns a copy of the headers of the route's latest request.
func (rec *recorder) lastHeader(route string) http.Header {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.last[route].Clone()
}

// recent returns copies of the recent requests, oldest first, keeping only
// the route's when route is not "".
func (rec *recorder) recent(route string) []RecordedRequest {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	ordered := append(append([]RecordedRequest{}, rec.ring[rec.next:]...), rec.ring[:rec.next]...)
	out := make([]RecordedRequest, 0, len(ordered))
	for _, e := range ordered {
		if route != "" && e.Route != route {
			continue
		}
		e.Header = e.Header.Clone()
		out = append(out, e)
	}
	return out
}

// Calls returns how many /v1 requests the simulator received per route,
// keyed like "GET /v1/sessions/{id}", with the sum under [CallsTotalKey].
// Requests to unknown paths count as "GET (unmatched)". Every received
// request counts, including those that failed authentication, were rate
// limited or met a fault.
func (s *Server) Calls() map[string]int { return s.rec.counts() }

// ResetCalls clears the call counters and the recorded requests.
func (s *Server) ResetCalls() { s.rec.reset() }

// LastHeaders returns the headers of the latest request of the route, such
// as "GET /v1/sessions/{id}", or nil when none was received.
func (s *Server) LastHeaders(route string) http.Header { return s.rec.lastHeader(route) }

// Requests returns the latest /v1 requests, oldest first, at most 256;
// route "" returns all of them.
func (s *Server) Requests(route string) []RecordedRequest { return s.rec.recent(route) }
