package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
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
	for _, ex := range contractRequestExamples(f) {
		path := strings.TrimPrefix(fillTemplate(ex.path), "/")
		seeds = append(seeds, restSeed{index(ex.method), path, "", ex.body})
	}
	return seeds
}

// fillTemplate replaces every {placeholder} of a path template with an id.
func fillTemplate(template string) string {
	var b strings.Builder
	for rest := template; rest != ""; {
		open := strings.IndexByte(rest, '{')
		end := strings.IndexByte(rest, '}')
		if open < 0 || end < open {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:open] + "Xk9mPq2rT4wZ")
		rest = rest[end+1:]
	}
	return b.String()
}

// contractRequest is one request body example of the upstream contract.
type contractRequest struct {
	method string // upper case
	path   string // the contract's template, such as "/sessions/{id}"
	body   []byte
}

// contractRequestExamples returns the contract's JSON request body
// examples, or none when the contract is not available: $GROUNDCAM_OPENAPI,
// else ../shared/upstream/groundcam-openapi.yaml next to the repository
// root.
func contractRequestExamples(tb testing.TB) []contractRequest {
	tb.Helper()
	path := os.Getenv("GROUNDCAM_OPENAPI")
	if path == "" {
		path = filepath.Join(fuzzRepoRoot(tb), "..", "shared", "upstream", "groundcam-openapi.yaml")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Logf("no contract examples as seeds: %v (set GROUNDCAM_OPENAPI to groundcam-openapi.yaml)", err)
		return nil
	}
	type mediaType struct {
		Example  json.RawMessage `json:"example"`
		Examples map[string]struct {
			Value json.RawMessage `json:"value"`
		} `json:"examples"`
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if js, err := yaml.YAMLToJSON(raw); err != nil || json.Unmarshal(js, &doc) != nil {
		tb.Fatalf("parse contract %s: %v", path, err)
	}
	var out []contractRequest
	for template, methods := range doc.Paths {
		for method, op := range methods {
			var operation struct {
				RequestBody struct {
					Content map[string]mediaType `json:"content"`
				} `json:"requestBody"`
			}
			if json.Unmarshal(op, &operation) != nil {
				continue // path-level parameters, not an operation
			}
			media := operation.RequestBody.Content["application/json"]
			method = strings.ToUpper(method)
			if len(media.Example) > 0 {
				out = append(out, contractRequest{method, template, media.Example})
			}
			for _, ex := range media.Examples {
				out = append(out, contractRequest{method, template, ex.Value})
			}
		}
	}
	slices.SortFunc(out, func(a, b contractRequest) int {
		return strings.Compare(a.method+a.path+string(a.body), b.method+b.path+string(b.body))
	})
	return out
}

// fuzzRepoRoot returns the nearest directory above the working directory
// that contains go.mod.
func fuzzRepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("find repository root: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("find repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}
