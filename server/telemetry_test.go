package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/gen/groundcam/v1/groundcamv1connect"
	"github.com/groundcam/groundcam-gateway/simulator/fault"
)

// Names of the spans of a GetSession call.
const (
	getSessionSpan   = "groundcam.v1.SessionService/GetSession"
	getSessionClient = "GET /v1/sessions/{id}"
)

// telFace sends GetSession through one face of the gateway with the given
// request headers.
type telFace struct {
	name       string
	getSession func(t *testing.T, g *telGateway, id string, header http.Header) error
}

var telFaces = []telFace{
	{"connect", getSessionConnect()},
	{"grpc-web", getSessionConnect(connect.WithGRPCWeb())},
	{"grpc-go over h2c", getSessionGRPC},
	{"rest", getSessionREST},
}

// getSessionConnect calls GetSession with a connect-go client over
// HTTP/1.1, or over h2c when opts select the gRPC protocol.
func getSessionConnect(opts ...connect.ClientOption) func(*testing.T, *telGateway, string, http.Header) error {
	return func(_ *testing.T, g *telGateway, id string, header http.Header) error {
		client := groundcamv1connect.NewSessionServiceClient(g.http1, g.url, opts...)
		req := connect.NewRequest(&groundcamv1.GetSessionRequest{Id: id})
		for name, values := range header {
			req.Header()[name] = values
		}
		_, err := client.GetSession(context.Background(), req)
		return err
	}
}

// getSessionGRPC calls GetSession with a grpc-go client over h2c, sending
// the headers as metadata.
func getSessionGRPC(t *testing.T, g *telGateway, id string, header http.Header) error {
	conn, err := grpc.NewClient(strings.TrimPrefix(g.url, "http://"),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	defer conn.Close()
	md := metadata.MD{}
	for name, values := range header {
		md.Append(strings.ToLower(name), values...)
	}
	ctx := metadata.NewOutgoingContext(context.Background(), md)
	_, err = groundcamv1.NewSessionServiceClient(conn).GetSession(ctx, &groundcamv1.GetSessionRequest{Id: id})
	return err
}

// getSessionREST sends GET /v1/sessions/{id} to the REST face.
func getSessionREST(t *testing.T, g *telGateway, id string, header http.Header) error {
	req, err := http.NewRequest(http.MethodGet, g.url+"/v1/sessions/"+url.PathEscape(id), nil)
	if err != nil {
		t.Fatalf("build REST request: %v", err)
	}
	req.Header = header.Clone()
	resp, err := g.http1.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("REST status %d: %s", resp.StatusCode, body)
	}
	return nil
}

// callerHeader returns the headers of a call made inside the caller's span
// with the Acme key.
func (g *telGateway) callerHeader(caller trace.SpanContext) http.Header {
	return http.Header{
		"Traceparent":   {traceparent(caller)},
		"Authorization": {"Bearer " + g.key},
	}
}

func TestTraceContinuesOnEveryFace(t *testing.T) {
	t.Parallel()
	for _, face := range telFaces {
		t.Run(face.name, func(t *testing.T) {
			t.Parallel()
			g := newTelGateway(t, telOptions{})
			id := g.sessionIDs(1)[0]
			caller := newCallerContext(t)

			if err := face.getSession(t, g, id, g.callerHeader(caller)); err != nil {
				t.Fatalf("GetSession: %v", err)
			}

			rpc := g.serverSpan(caller)
			if rpc.Name() != getSessionSpan {
				t.Errorf("RPC span name = %q, want %q", rpc.Name(), getSessionSpan)
			}
			if got := rpc.SpanContext().TraceID(); got != caller.TraceID() {
				t.Errorf("RPC span trace id = %s, want the caller's %s", got, caller.TraceID())
			}
			if !rpc.Parent().IsRemote() || rpc.Parent().SpanID() != caller.SpanID() {
				t.Errorf("RPC span parent = %s (remote %t), want the caller's span %s",
					rpc.Parent().SpanID(), rpc.Parent().IsRemote(), caller.SpanID())
			}

			clients := g.childSpans(rpc)
			if len(clients) != 1 {
				t.Fatalf("RPC span has %d child spans, want 1 upstream client span", len(clients))
			}
			client := clients[0]
			if client.Name() != getSessionClient || client.SpanKind() != trace.SpanKindClient {
				t.Errorf("child span = %q of kind %v, want %q of kind client",
					client.Name(), client.SpanKind(), getSessionClient)
			}
			if got := client.SpanContext().TraceID(); got != caller.TraceID() {
				t.Errorf("client span trace id = %s, want the caller's %s", got, caller.TraceID())
			}

			received := g.receivedTraceparents(getSessionClient, caller.TraceID())
			if len(received) != 1 {
				t.Fatalf("the simulator received %d requests in the caller's trace, want 1", len(received))
			}
			traceID, parentID := parseTraceparent(t, received[0])
			if traceID != caller.TraceID() {
				t.Errorf("upstream traceparent trace id = %s, want the caller's %s", traceID, caller.TraceID())
			}
			if parentID != client.SpanContext().SpanID() {
				t.Errorf("upstream traceparent parent id = %s, want the client span %s",
					parentID, client.SpanContext().SpanID())
			}
		})
	}
}

func TestTraceUntrustedCallerStartsNewTrace(t *testing.T) {
	t.Parallel()
	for _, face := range telFaces {
		t.Run(face.name, func(t *testing.T) {
			t.Parallel()
			g := newTelGateway(t, telOptions{distrust: true})
			id := g.sessionIDs(1)[0]
			caller := newCallerContext(t)
			header := g.callerHeader(caller)
			header.Set("Baggage", "client_email=jean.dupont%40example.com")

			if err := face.getSession(t, g, id, header); err != nil {
				t.Fatalf("GetSession: %v", err)
			}

			rpc := g.serverSpan(caller)
			traceID := rpc.SpanContext().TraceID()
			if traceID == caller.TraceID() {
				t.Errorf("RPC span continues the untrusted caller's trace %s", traceID)
			}
			if rpc.Parent().IsValid() {
				t.Errorf("RPC span has parent %s, want a root span", rpc.Parent().SpanID())
			}
			if !linksTo(rpc, caller) {
				t.Errorf("RPC span links = %v, want a link to the caller's span", rpc.Links())
			}

			clients := g.childSpans(rpc)
			if len(clients) != 1 {
				t.Fatalf("RPC span has %d child spans, want 1 upstream client span", len(clients))
			}
			if got := g.receivedTraceparents(getSessionClient, caller.TraceID()); len(got) != 0 {
				t.Errorf("the simulator received the caller's trace id: %v", got)
			}
			received := g.receivedTraceparents(getSessionClient, traceID)
			if len(received) != 1 {
				t.Fatalf("the simulator received %d requests in the new trace, want 1", len(received))
			}
			for _, r := range g.sim.Requests(getSessionClient) {
				if v := r.Header.Get("Baggage"); v != "" {
					t.Errorf("the simulator received the untrusted caller's baggage %q", v)
				}
			}
		})
	}
}

func TestTelemetrySameNamesAndLabelsForEveryID(t *testing.T) {
	t.Parallel()
	g := newTelGateway(t, telOptions{})
	ids := g.sessionIDs(2)
	faces := []telFace{telFaces[0], telFaces[3]} // Connect and REST
	var names []string
	for _, face := range faces {
		for _, id := range ids {
			caller := newCallerContext(t)
			if err := face.getSession(t, g, id, g.callerHeader(caller)); err != nil {
				t.Fatalf("GetSession %s on %s: %v", id, face.name, err)
			}
			rpc := g.serverSpan(caller)
			call := rpc.Name()
			for _, child := range g.childSpans(rpc) {
				call += " > " + child.Name()
			}
			names = append(names, call)
		}
	}

	want := getSessionSpan + " > " + getSessionClient
	for i, got := range names {
		if got != want {
			t.Errorf("call %d spans = %q, want %q", i, got, want)
		}
	}
	calls := uint64(len(faces) * len(ids))
	wantOnePoint(t, g, "rpc.server.call.duration", "rpc.method", getSessionSpan, calls)
	wantOnePoint(t, g, "http.client.request.duration", "http.route", "/v1/sessions/{id}", calls)
	for _, span := range g.spans.Ended() {
		for _, kv := range span.Attributes() {
			for _, id := range ids {
				if strings.Contains(kv.Value.Emit(), id) {
					t.Errorf("span %q attribute %s = %q contains session id %s",
						span.Name(), kv.Key, kv.Value.Emit(), id)
				}
			}
		}
	}
}

// wantOnePoint checks that the histogram name has exactly one data point
// whose attribute key is value, counting calls samples: every call had
// the same attribute set.
func wantOnePoint(t *testing.T, g *telGateway, name string, key attribute.Key, value string, calls uint64) {
	t.Helper()
	var found int
	for _, point := range g.histogramPoints(name) {
		if v, ok := point.Attributes.Value(key); !ok || v.AsString() != value {
			continue
		}
		found++
		if point.Count != calls {
			t.Errorf("%s{%s} counts %d samples, want %d", name, point.Attributes.Encoded(attribute.DefaultEncoder()),
				point.Count, calls)
		}
	}
	if found != 1 {
		t.Errorf("%s has %d data points with %s=%s, want 1", name, found, key, value)
	}
}

func TestTelemetryCacheHitOnRPCSpan(t *testing.T) {
	t.Parallel()
	g := newTelGateway(t, telOptions{cache: true})
	id := g.sessionIDs(1)[0]
	tests := []struct {
		cache   string
		clients int
	}{
		{cache: "miss", clients: 1},
		{cache: "hit", clients: 0},
	}
	for i, tt := range tests {
		caller := newCallerContext(t)
		if err := getSessionConnect()(t, g, id, g.callerHeader(caller)); err != nil {
			t.Fatalf("GetSession %d: %v", i+1, err)
		}
		rpc := g.serverSpan(caller)
		if v, _ := attrValue(rpc, "groundcam.cache"); v.AsString() != tt.cache {
			t.Errorf("call %d: groundcam.cache = %q, want %q", i+1, v.AsString(), tt.cache)
		}
		if got := len(g.childSpans(rpc)); got != tt.clients {
			t.Errorf("call %d: %d upstream client spans, want %d", i+1, got, tt.clients)
		}
	}
}

func TestTelemetryRetryHasResendCount(t *testing.T) {
	t.Parallel()
	g := newTelGateway(t, telOptions{})
	id := g.sessionIDs(1)[0]
	g.failOnce(http.MethodGet, "/v1/sessions/"+id, http.StatusServiceUnavailable, "")
	caller := newCallerContext(t)

	if err := getSessionConnect()(t, g, id, g.callerHeader(caller)); err != nil {
		t.Fatalf("GetSession after one 503: %v", err)
	}

	clients := g.childSpans(g.serverSpan(caller))
	if len(clients) != 2 {
		t.Fatalf("%d upstream client spans, want 2 (the 503 and the retry)", len(clients))
	}
	tests := []struct {
		status int64
		resend int64 // 0 means no http.request.resend_count
	}{
		{status: http.StatusServiceUnavailable},
		{status: http.StatusOK, resend: 1},
	}
	for i, tt := range tests {
		span := clients[i]
		if v, _ := attrValue(span, "http.response.status_code"); v.AsInt64() != tt.status {
			t.Errorf("attempt %d: http.response.status_code = %d, want %d", i+1, v.AsInt64(), tt.status)
		}
		v, ok := attrValue(span, "http.request.resend_count")
		if tt.resend == 0 && ok {
			t.Errorf("attempt %d: http.request.resend_count = %d, want none", i+1, v.AsInt64())
		}
		if tt.resend != 0 && v.AsInt64() != tt.resend {
			t.Errorf("attempt %d: http.request.resend_count = %d, want %d", i+1, v.AsInt64(), tt.resend)
		}
	}

	retries := g.logLines("retrying upstream call")
	if len(retries) != 1 {
		t.Fatalf("%d retry log lines, want 1", len(retries))
	}
	if got := retries[0]["trace_id"]; got != caller.TraceID().String() {
		t.Errorf("retry log trace_id = %v, want the caller's %s", got, caller.TraceID())
	}
}

// failOnce makes the simulator respond to the next request with method
// and path with status and body.
func (g *telGateway) failOnce(method, path string, status int, body string) {
	g.t.Helper()
	g.fail(method, path, status, body, 1)
}

// fail makes the simulator respond to the next times requests with method
// and path with status and body.
func (g *telGateway) fail(method, path string, status int, body string, times int) {
	g.t.Helper()
	rule := fault.Rule{Method: method, Path: path, Times: times, Status: status, Body: body}
	if body != "" {
		rule.Header = map[string]string{"Content-Type": "application/json"}
	}
	if _, err := g.sim.Faults().Add(rule); err != nil {
		g.t.Fatalf("add fault %d on %s %s: %v", status, method, path, err)
	}
}

func TestTelemetryUpstreamErrorCodeOnClientSpan(t *testing.T) {
	t.Parallel()
	g := newTelGateway(t, telOptions{})
	caller := newCallerContext(t)

	err := getSessionConnect()(t, g, "ses_missing", g.callerHeader(caller))
	if connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("GetSession of a missing session: %v, want not_found", err)
	}

	rpc := g.serverSpan(caller)
	if v, _ := attrValue(rpc, "rpc.response.status_code"); v.AsString() != "NOT_FOUND" {
		t.Errorf("RPC span rpc.response.status_code = %q, want NOT_FOUND", v.AsString())
	}
	clients := g.childSpans(rpc)
	if len(clients) != 1 {
		t.Fatalf("%d upstream client spans, want 1", len(clients))
	}
	client := clients[0]
	wantAttrs := map[attribute.Key]string{
		"groundcam.upstream.error_code": "NOT_FOUND",
		"error.type":                    "404",
	}
	for key, want := range wantAttrs {
		if v, _ := attrValue(client, key); v.AsString() != want {
			t.Errorf("client span %s = %q, want %q", key, v.AsString(), want)
		}
	}
	if v, _ := attrValue(client, "http.response.status_code"); v.AsInt64() != http.StatusNotFound {
		t.Errorf("client span http.response.status_code = %d, want 404", v.AsInt64())
	}
}

func TestTelemetryAccessLogCarriesTraceIDs(t *testing.T) {
	t.Parallel()
	g := newTelGateway(t, telOptions{cache: true})
	id := g.sessionIDs(1)[0]
	tests := []struct {
		id       string
		code     string
		cache    string  // "" means no cache key
		upstream float64 // 0 means no upstream_status key
	}{
		{id: id, code: "ok", cache: "miss", upstream: 200},
		{id: id, code: "ok", cache: "hit"},
		{id: "ses_missing", code: "not_found", upstream: 404},
	}
	var spans []trace.SpanContext
	for _, tt := range tests {
		caller := newCallerContext(t)
		_ = getSessionConnect()(t, g, tt.id, g.callerHeader(caller))
		spans = append(spans, g.serverSpan(caller).SpanContext())
	}

	lines := g.logLines("rpc call")
	if len(lines) != len(tests) {
		t.Fatalf("%d access log lines, want one per call (%d):\n%s", len(lines), len(tests), g.logs)
	}
	for i, tt := range tests {
		line := lines[i]
		wantStrings := map[string]string{
			"procedure": "/" + getSessionSpan,
			"protocol":  connect.ProtocolConnect,
			"code":      tt.code,
			"trace_id":  spans[i].TraceID().String(),
			"span_id":   spans[i].SpanID().String(),
		}
		for key, want := range wantStrings {
			if line[key] != want {
				t.Errorf("line %d: %s = %v, want %q", i+1, key, line[key], want)
			}
		}
		if d, ok := line["duration_ms"].(float64); !ok || d < 0 {
			t.Errorf("line %d: duration_ms = %v, want a number of milliseconds", i+1, line["duration_ms"])
		}
		if got, _ := line["cache"].(string); got != tt.cache {
			t.Errorf("line %d: cache = %q, want %q", i+1, got, tt.cache)
		}
		if got, _ := line["upstream_status"].(float64); got != tt.upstream {
			t.Errorf("line %d: upstream_status = %v, want %v", i+1, got, tt.upstream)
		}
	}
}

func TestTelemetryRPCAttributesByMethodAndCode(t *testing.T) {
	t.Parallel()
	g := newTelGateway(t, telOptions{})
	id := g.sessionIDs(1)[0]
	var spans []trace.SpanContext
	for _, target := range []string{id, id, "ses_missing"} {
		caller := newCallerContext(t)
		_ = getSessionConnect()(t, g, target, g.callerHeader(caller))
		spans = append(spans, caller)
	}

	method := "rpc.method=" + getSessionSpan
	want := map[string]uint64{
		method + ",rpc.response.status_code=OK,rpc.system.name=connectrpc":                                  2,
		"error.type=NOT_FOUND," + method + ",rpc.response.status_code=NOT_FOUND,rpc.system.name=connectrpc": 1,
	}
	got := map[string]uint64{}
	for _, point := range g.histogramPoints("rpc.server.call.duration") {
		got[point.Attributes.Encoded(attribute.DefaultEncoder())] += point.Count
	}
	for set, count := range want {
		if got[set] != count {
			t.Errorf("rpc.server.call.duration{%s} counts %d calls, want %d", set, got[set], count)
		}
	}
	if len(got) != len(want) {
		t.Errorf("rpc.server.call.duration has attribute sets %v, want %v", got, want)
	}

	allowed := map[attribute.Key]bool{
		"rpc.system.name": true, "rpc.method": true, "rpc.response.status_code": true, "error.type": true,
	}
	for i, caller := range spans {
		for _, kv := range g.serverSpan(caller).Attributes() {
			if !allowed[kv.Key] {
				t.Errorf("call %d: RPC span has attribute %s=%s, which is not on the allow-list",
					i+1, kv.Key, kv.Value.Emit())
			}
		}
	}
}
