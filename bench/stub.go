package bench

import (
	"net/http"
	"strconv"
	"sync/atomic"
)

// Stub is the upstream of the ladder. It responds to a GET of each size's
// upstream path with that size's fixed {"data": ...} body and rate-limit
// headers, as the upstream does, and with 404 elsewhere. It counts the
// reads it served. It is safe for concurrent use.
type Stub struct {
	bodies map[string][]byte
	calls  atomic.Int64
}

var _ http.Handler = (*Stub)(nil)

// NewStub returns a stub that serves sizes.
func NewStub(sizes []*Size) *Stub {
	s := &Stub{bodies: make(map[string][]byte, len(sizes))}
	for _, size := range sizes {
		s.bodies[size.UpstreamPath] = size.UpstreamBody
	}
	return s
}

// Calls returns the number of reads the stub has served.
func (s *Stub) Calls() int64 {
	return s.calls.Load()
}

// ServeHTTP writes the body of the request's path.
func (s *Stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := s.bodies[r.URL.Path]
	if !ok || r.Method != http.MethodGet {
		w.Header()["Content-Type"] = jsonContentType
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write(notFoundBody)
		return
	}
	s.calls.Add(1)
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	h["X-Ratelimit-Limit"] = rateLimit
	h["X-Ratelimit-Remaining"] = rateLimit
	h["X-Ratelimit-Reset"] = rateLimitReset
	_, _ = w.Write(body)
}

// Header values shared by every response; net/http only reads them.
var (
	jsonContentType = []string{"application/json"}
	rateLimit       = []string{"1000"}
	rateLimitReset  = []string{"60"}
	notFoundBody    = []byte(`{"error":{"message":"Not found","code":"NOT_FOUND"}}` + "\n")
)
