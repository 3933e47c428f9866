package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	"github.com/groundcam/groundcam-gateway/internal/contracttest"
	"github.com/groundcam/groundcam-gateway/server"
)

// fuzzMethods are the HTTP methods FuzzRESTRequest picks from.
var fuzzMethods = []string{
	http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete, http.MethodHead,
	http.MethodOptions,
}

// FuzzRESTRequest sends arbitrary methods, paths under /v1/, query strings
// and bodies through the gateway's HTTP handler, in front of an upstream
// stand-in that accepts everything. No input may panic, even one that the
// handler's recover option would catch, and every error response must be
// the upstream's error envelope. The upstream never fails, so a 500 is a
// gateway bug.
func FuzzRESTRequest(f *testing.F) {
	for _, seed := range restSeeds(f) {
		f.Add(seed.method, seed.path, seed.query, seed.body)
	}
	panics := &panicCounter{}
	gateway := fuzzGateway(f, panics)

	f.Fuzz(func(t *testing.T, methodIndex uint8, path, query string, body []byte) {
		method := fuzzMethods[int(methodIndex)%len(fuzzMethods)]
		target := "http://gateway.test/v1/" + path
		if query != "" {
			target += "?" + query
		}
		req, err := http.NewRequestWithContext(t.Context(), method, target, bytes.NewReader(body))
		if err != nil {
			return // not a request that an HTTP server would accept
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer gc_live_fuzz")
		rec := httptest.NewRecorder()

		gateway.ServeHTTP(rec, req)

		if n := panics.n.Load(); n > 0 {
			t.Fatalf("%s %s: the handler panicked (%d recovered panics)", method, target, n)
		}
		checkRESTAnswer(t, method+" "+target, rec)
	})
}

// checkRESTAnswer checks the status of a response and, for an error, that
// its body is the upstream's error envelope.
func checkRESTAnswer(t *testing.T, call string, rec *httptest.ResponseRecorder) {
	t.Helper()
	status := rec.Code
	switch {
	case status < 200 || status > 599:
		t.Fatalf("%s: invalid status %d", call, status)
	case status == http.StatusInternalServerError:
		t.Fatalf("%s: 500 although the upstream never fails: %s", call, rec.Body)
	case status < 400 || rec.Body.Len() == 0:
		return // a response to HEAD has no body
	}
	var envelope restErrorEnvelope
	if err := json.Unmarshal(rec.Body.Bytes(), &envelope); err != nil {
		t.Fatalf("%s: HTTP %d body is not JSON: %v\n%s", call, status, err, rec.Body)
	}
	if envelope.Error.Code == "" || envelope.Error.Message == "" {
		t.Fatalf("%s: HTTP %d body lacks error.code or error.message: %s", call, status, rec.Body)
	}
}

// fuzzGateway returns the gateway's handler over an upstream stand-in
// that answers every request with {"data": {}}. Recovered handler panics
// are counted in panics.
func fuzzGateway(f *testing.F, panics *panicCounter) http.Handler {
	f.Helper()
	logger := slog.New(panics)
	client, err := upstream.New("http://upstream.invalid/v1",
		upstream.WithHTTPClient(&http.Client{Transport: acceptingUpstream{}}),
		upstream.WithLogger(logger))
	if err != nil {
		f.Fatalf("new upstream client: %v", err)
	}
	gateway, err := server.New(server.Config{Upstream: client, Logger: logger})
	if err != nil {
		f.Fatalf("new gateway: %v", err)
	}
	return gateway
}

// acceptingUpstream is an http.RoundTripper that answers every request
// with 200 {"data": {}} and never touches the network.
type acceptingUpstream struct{}

func (acceptingUpstream) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(`{"data": {}}`)),
		Request:    req,
	}, nil
}

// panicCounter is a slog.Handler that drops every record and counts the
// gateway's "handler panicked" records.
type panicCounter struct {
	n atomic.Int64
}

var _ slog.Handler = (*panicCounter)(nil)

func (p *panicCounter) Enabled(context.Context, slog.Level) bool { return true }

func (p *panicCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "handler panicked" {
		p.n.Add(1)
	}
	return nil
}

func (p *panicCounter) WithAttrs([]slog.Attr) slog.Handler { return p }
func (p *panicCounter) WithGroup(string) slog.Handler      { return p }

// restSeed is one seed input of FuzzRESTRequest.
type restSeed struct {
	method      uint8
	path, query string
	body        []byte
}

// restSeeds returns hand-written seeds and, when the upstream contract is
// available, one seed per request example in it.
func restSeeds(f *testing.F) []restSeed {
	f.Helper()
	index := func(method string) uint8 { return uint8(slices.Index(fuzzMethods, method)) }
	get, post, patch := index(http.MethodGet), index(http.MethodPost), index(http.MethodPatch)
	seeds := []restSeed{
		{get, "sessions", "status=pending&limit=10&metadata.customer=acme", nil},
		{get, "sessions", "limit=abc&createdAfter=yesterday", nil},
		{get, "sessions/Xk9mPq2rT4wZ", "", nil},
		{get, "sessions//screenshots", "", nil},
		{get, "stats", "period=month&from=2026-03-01T00:00:00.000Z", nil},
		{post, "sessions", "", []byte(`{"clientPhone": "+33612345678", "agentId": "Xk9mPq2rT4wZ", "metadata": {"a": 1}}`)},
		{post, "sessions", "", []byte(`{"clientPhone": `)},
		{post, "sessions/bulk", "", []byte(`{"sessions": [{"clientPhone": "+33612345678"}]}`)},
		{patch, "sessions/Xk9mPq2rT4wZ", "", []byte(`{"notes": null, "sessionTags": []}`)},
		{index(http.MethodDelete), "webhooks/wh_1", "", nil},
		{index(http.MethodPut), "sessions/Xk9mPq2rT4wZ", "", []byte(`{}`)},
		// Bytes that are not UTF-8 in a path segment or a query value.
		{get, "sessions/%C1", "", nil},
		{get, "sessions", "crmId=%C1", nil},
	}
	for _, ex := range contracttest.RequestExamples(f) {
		path := strings.TrimPrefix(contracttest.FillTemplate(ex.Path, "Xk9mPq2rT4wZ"), "/")
		seeds = append(seeds, restSeed{index(ex.Method), path, "", ex.Body})
	}
	return seeds
}
