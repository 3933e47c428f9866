package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/gen/groundcam/v1/groundcamv1connect"
	"github.com/groundcam/groundcam-gateway/simulator/fault"
)

// hookToken is in the path of the sweep's webhook URLs, so that a
// recorded URL shows up.
const hookToken = "privacy-hook-token"

func TestPrivacyNoPersonalDataInTelemetry(t *testing.T) {
	t.Parallel()
	g := newTelGateway(t, telOptions{cache: true})
	if got := len(allMethods()); got != len(sweepCalls) {
		t.Fatalf("the services have %d RPCs and the sweep calls %d", got, len(sweepCalls))
	}
	for _, name := range allMethods() {
		if !slices.ContainsFunc(sweepCalls, func(c sweepCall) bool { return c.method == name }) {
			t.Errorf("the sweep does not call %s", name)
		}
	}

	faces := []struct {
		name   string
		invoke sweepInvoker
	}{
		{"connect", g.connectInvoker()},
		{"rest", g.restInvoker()},
		{"grpc", g.grpcInvoker()},
	}
	sensitive := map[string]string{}
	for _, face := range faces {
		g.sweep(face.name, face.invoke, sensitive)
	}
	g.sweepFailures()

	// Each face must have returned the secrets that the scan looks for,
	// or the scan proves nothing.
	for _, label := range []string{"client URL", "agent URL", "auth URL", "webhook secret"} {
		if n := countValues(sensitive, label); n < len(faces) {
			t.Errorf("the sweep collected %d %s values, want at least %d", n, label, len(faces))
		}
	}
	traced := map[string]bool{}
	for _, s := range g.spans.Ended() {
		if s.SpanKind() == trace.SpanKindServer {
			traced[s.Name()] = true
		}
	}
	for _, name := range allMethods() {
		md := methodDescriptor(t, name)
		if !traced[strings.TrimPrefix(procedurePath(md), "/")] {
			t.Errorf("no RPC span was recorded for %s", name)
		}
	}

	forbidden := forbiddenValues(g.key, sensitive)
	for _, rec := range g.recordedTexts() {
		lower := strings.ToLower(rec.text)
		for _, f := range forbidden {
			if strings.Contains(lower, strings.ToLower(f.value)) {
				t.Errorf("%s contains the %s %q: %s", rec.where, f.label, f.value, rec.text)
			}
		}
	}
}

// sweep calls every RPC through one face and adds the sensitive values of
// the responses to sensitive. Every call must succeed, and GetSession must
// return the phone number, which proves the personal data reached the
// upstream.
func (g *telGateway) sweep(face string, invoke sweepInvoker, sensitive map[string]string) {
	t := g.t
	t.Helper()
	state := &sweepState{face: face, hookURL: g.hookURL + "/hooks/" + hookToken + "-" + face}
	for _, call := range sweepCalls {
		md := methodDescriptor(t, call.method)
		res := newResponse(t, md)
		if err := invoke(context.Background(), md, call.request(state), res); err != nil {
			t.Errorf("%s on the %s face: %v", md.Name(), face, err)
			continue
		}
		collectSensitive(res.ProtoReflect(), sensitive)
		if call.after != nil {
			call.after(state, res)
		}
		if session, ok := res.(*groundcamv1.GetSessionResponse); ok {
			if got := session.GetSession().GetClientPhone(); got != personalPhone {
				t.Errorf("GetSession on the %s face: client phone = %q, want %q", face, got, personalPhone)
			}
		}
	}
}

// sweepFailures makes upstream calls fail in the ways whose errors could
// quote personal data: a 500 whose message quotes the client, and dropped
// connections on a list filtered by phone, whose error wraps the URL.
// Neither error message may reach the telemetry, and the URL may not reach
// the caller either.
func (g *telGateway) sweepFailures() {
	t := g.t
	t.Helper()
	invoke := g.connectInvoker()

	// UpdateSession is not idempotent, so the 500 is not retried.
	id := g.sessionIDs(1)[0]
	g.fail(http.MethodPatch, "/v1/sessions/"+id, http.StatusInternalServerError,
		`{"error":{"message":"notes of `+personalName+` (`+personalPhone+`, `+personalEmail+
			`) could not be saved","code":"INTERNAL_ERROR"}}`, 1)
	md := methodDescriptor(t, "groundcam.v1.SessionService.UpdateSession")
	err := invoke(context.Background(), md,
		&groundcamv1.UpdateSessionRequest{Id: id, Notes: personalNote()}, newResponse(t, md))
	if err == nil || !strings.Contains(err.Error(), "INTERNAL_ERROR") {
		t.Errorf("UpdateSession after an upstream 500: %v, want the upstream's INTERNAL_ERROR", err)
	}

	// A 4xx whose code is not an identifier becomes the call's ErrorInfo
	// reason, which the access log records.
	g.fail(http.MethodPatch, "/v1/sessions/"+id, http.StatusBadRequest,
		`{"error":{"message":"invalid notes","code":"NOTES OF `+personalEmail+`"}}`, 1)
	err = invoke(context.Background(), md,
		&groundcamv1.UpdateSessionRequest{Id: id, Notes: personalNote()}, newResponse(t, md))
	if err == nil || !strings.Contains(err.Error(), "invalid notes") {
		t.Errorf("UpdateSession after an upstream 400: %v, want the upstream's message", err)
	}

	// Every attempt of the filtered list loses its connection.
	_, faultErr := g.sim.Faults().Add(fault.Rule{Method: http.MethodGet, Path: "/v1/sessions", Reset: true})
	if faultErr != nil {
		t.Fatalf("add connection reset fault: %v", faultErr)
	}
	defer g.sim.Faults().Clear()
	md = methodDescriptor(t, "groundcam.v1.SessionService.ListSessions")
	req := &groundcamv1.ListSessionsRequest{Metadata: personalFilter(), CrmId: proto.String("unreachable")}
	err = invoke(context.Background(), md, req, newResponse(t, md))
	if err == nil || !strings.Contains(err.Error(), "UPSTREAM_UNAVAILABLE") {
		t.Fatalf("ListSessions with dropped connections: %v, want UPSTREAM_UNAVAILABLE", err)
	}
	for _, f := range forbiddenValues("", nil) {
		if strings.Contains(err.Error(), f.value) {
			t.Errorf("ListSessions error %q contains the %s", err, f.label)
		}
	}
}

// forbiddenValue is a string that must not appear in any telemetry.
type forbiddenValue struct {
	label string
	value string
}

// forbiddenValues returns the API key, every spelling of the personal
// data, the webhook URL token and the sensitive response values.
func forbiddenValues(key string, sensitive map[string]string) []forbiddenValue {
	values := []forbiddenValue{
		{"phone number", personalPhone},
		{"phone number", personalPhoneSpaced},
		{"phone number", strings.TrimPrefix(personalPhone, "+33")},
		{"phone number", strings.TrimPrefix(personalPhoneSpaced, "+33 ")},
		{"URL-encoded phone number", url.QueryEscape(personalPhone)},
		{"URL-encoded phone number", url.QueryEscape(personalPhoneSpaced)},
		{"URL-encoded phone number", url.PathEscape(personalPhoneSpaced)},
		{"email", personalEmail},
		{"URL-encoded email", url.QueryEscape(personalEmail)},
		{"email", strings.Split(personalEmail, "@")[0]},
		{"client name", personalName},
		{"webhook URL", hookToken},
	}
	if key != "" {
		values = append(values, forbiddenValue{"API key", key})
	}
	for value, label := range sensitive {
		values = append(values, forbiddenValue{label, value})
	}
	return values
}

func countValues(values map[string]string, label string) int {
	n := 0
	for _, l := range values {
		if l == label {
			n++
		}
	}
	return n
}

// recordedText is one piece of recorded telemetry and where it is.
type recordedText struct {
	where string
	text  string
}

// recordedTexts returns everything the gateway recorded: the name, status
// description, attributes, events and links of every span, the attributes
// of every metric data point and exemplar, every log line and the
// Prometheus page of the admin handler.
func (g *telGateway) recordedTexts() []recordedText {
	g.t.Helper()
	var out []recordedText
	for _, s := range g.spans.Ended() {
		where := "span " + s.Name()
		out = append(out,
			recordedText{where + " name", s.Name()},
			recordedText{where + " status", s.Status().Description})
		out = append(out, attributeTexts(where+" attribute", s.Attributes())...)
		for _, e := range s.Events() {
			out = append(out, recordedText{where + " event", e.Name})
			out = append(out, attributeTexts(where+" event "+e.Name, e.Attributes)...)
		}
		for _, l := range s.Links() {
			out = append(out, attributeTexts(where+" link", l.Attributes)...)
		}
	}

	for _, sm := range g.collectMetrics().ScopeMetrics {
		for _, m := range sm.Metrics {
			for _, attrs := range pointAttributes(m.Data) {
				out = append(out, attributeTexts("metric "+m.Name, attrs)...)
			}
		}
	}

	for _, line := range strings.Split(g.logs.String(), "\n") {
		out = append(out, recordedText{"log line", line})
	}

	page := httptest.NewRecorder()
	g.tel.AdminHandler().ServeHTTP(page, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if page.Code != http.StatusOK {
		g.t.Fatalf("GET /metrics: status %d", page.Code)
	}
	for _, line := range strings.Split(page.Body.String(), "\n") {
		out = append(out, recordedText{"/metrics line", line})
	}
	return out
}

func attributeTexts(where string, attrs []attribute.KeyValue) []recordedText {
	out := make([]recordedText, 0, len(attrs))
	for _, kv := range attrs {
		out = append(out, recordedText{where, string(kv.Key) + "=" + kv.Value.Emit()})
	}
	return out
}

// pointAttributes returns the attributes of every data point of data and
// the filtered attributes of their exemplars.
func pointAttributes(data metricdata.Aggregation) [][]attribute.KeyValue {
	switch d := data.(type) {
	case metricdata.Sum[int64]:
		return numberAttributes(d.DataPoints)
	case metricdata.Sum[float64]:
		return numberAttributes(d.DataPoints)
	case metricdata.Gauge[int64]:
		return numberAttributes(d.DataPoints)
	case metricdata.Gauge[float64]:
		return numberAttributes(d.DataPoints)
	case metricdata.Histogram[int64]:
		return histogramAttributes(d.DataPoints)
	case metricdata.Histogram[float64]:
		return histogramAttributes(d.DataPoints)
	}
	return nil
}

func numberAttributes[N int64 | float64](points []metricdata.DataPoint[N]) [][]attribute.KeyValue {
	var out [][]attribute.KeyValue
	for _, p := range points {
		out = append(out, p.Attributes.ToSlice())
		for _, e := range p.Exemplars {
			out = append(out, e.FilteredAttributes)
		}
	}
	return out
}

func histogramAttributes[N int64 | float64](points []metricdata.HistogramDataPoint[N]) [][]attribute.KeyValue {
	var out [][]attribute.KeyValue
	for _, p := range points {
		out = append(out, p.Attributes.ToSlice())
		for _, e := range p.Exemplars {
			out = append(out, e.FilteredAttributes)
		}
	}
	return out
}

func TestPrivacySpanStatusOmitsErrorMessage(t *testing.T) {
	t.Parallel()
	g := newTelGateway(t, telOptions{})
	id := g.sessionIDs(1)[0]
	g.fail(http.MethodPatch, "/v1/sessions/"+id, http.StatusServiceUnavailable,
		`{"error":{"message":"maintenance while saving notes of `+personalEmail+`","code":"MAINTENANCE"}}`, 1)
	caller := newCallerContext(t)

	client := groundcamv1connect.NewSessionServiceClient(g.http1, g.url)
	req := connect.NewRequest(&groundcamv1.UpdateSessionRequest{Id: id, Notes: personalNote()})
	for name, values := range g.callerHeader(caller) {
		req.Header()[name] = values
	}
	_, err := client.UpdateSession(context.Background(), req)
	if connect.CodeOf(err) != connect.CodeUnavailable || !strings.Contains(err.Error(), personalEmail) {
		t.Fatalf("UpdateSession during maintenance: %v, want unavailable with the upstream's message", err)
	}

	rpc := g.serverSpan(caller)
	if rpc.Status().Code != codes.Error || rpc.Status().Description != "MAINTENANCE" {
		t.Errorf("RPC span status = %v %q, want Error \"MAINTENANCE\"", rpc.Status().Code, rpc.Status().Description)
	}
	if v, _ := attrValue(rpc, "rpc.response.status_code"); v.AsString() != "UNAVAILABLE" {
		t.Errorf("RPC span rpc.response.status_code = %q, want UNAVAILABLE", v.AsString())
	}
}
