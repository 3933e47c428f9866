package fault_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/groundcam/groundcam-gateway/simulator/fault"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// backendBody is the wrapped handler's JSON body.
const backendBody = `{"data":{"id":"Xk9mPq2rT4wZ","status":"pending","agentName":"Jean Dupont"}}`

// server is a wrapped backend behind an injector, with hooks that tell when
// a request enters and leaves the middleware.
type server struct {
	srv      *httptest.Server
	inj      *fault.Injector
	backend  atomic.Int64  // requests that reached the backend
	entered  chan struct{} // one value per request entering the middleware
	finished chan struct{} // one value per request leaving it, also by panic
}

// Server modes of newServer.
const (
	plain = "http1"     // HTTP/1.1 without TLS
	tls1  = "http1-tls" // HTTP/1.1 over TLS
	h2    = "h2"        // HTTP/2 over TLS
)

// newServer starts a server in the given mode whose handler is the
// injector's middleware around a JSON backend.
func newServer(t *testing.T, mode string) *server {
	t.Helper()
	s := &server{
		inj:      fault.New(),
		entered:  make(chan struct{}, 1000),
		finished: make(chan struct{}, 1000),
	}
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.backend.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Backend", r.Proto)
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, backendBody)
	})
	wrapped := s.inj.Middleware(backend)
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.entered <- struct{}{}
		defer func() { s.finished <- struct{}{} }()
		wrapped.ServeHTTP(w, r)
	})

	s.srv = httptest.NewUnstartedServer(outer)
	switch mode {
	case h2:
		s.srv.EnableHTTP2 = true
		s.srv.StartTLS()
	case tls1:
		s.srv.StartTLS()
	default:
		s.srv.Start()
	}
	t.Cleanup(s.srv.Close)
	t.Cleanup(s.inj.Close)
	return s
}

// client returns a client of s that opens a new connection per request, so
// that no request is retried on another connection.
func (s *server) client() *http.Client {
	c := s.srv.Client()
	if tr, ok := c.Transport.(*http.Transport); ok && !s.srv.EnableHTTP2 {
		tr = tr.Clone()
		tr.DisableKeepAlives = true
		c = &http.Client{Transport: tr}
	}
	return c
}

// add adds rule to s or fails the test.
func (s *server) add(t *testing.T, rule fault.Rule) string {
	t.Helper()
	id, err := s.inj.Add(rule)
	if err != nil {
		t.Fatalf("Add(%+v): %v", rule, err)
	}
	return id
}

// get sends GET path and returns the response, with its body read, or the
// error of the request or of reading the body.
func (s *server) get(ctx context.Context, path string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.srv.URL+path, nil)
	if err != nil {
		return nil, nil, err
	}
	res, err := s.client().Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res, body, err
}

// await receives one value from ch or fails the test after 30 s.
func await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}
