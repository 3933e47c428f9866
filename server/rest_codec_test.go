package server

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

func TestRESTBodyErrors(t *testing.T) {
	t.Parallel()
	h := newRESTHarness(t, restHarnessConfig{})
	cases := []struct {
		name, path, body string
		code, message    string
	}{
		{"truncated", "/v1/sessions", `{"clientPhone":`, "INVALID_JSON",
			"Request body is not a valid JSON object: syntax error at byte 15"},
		{"trailing data", "/v1/sessions", `{"agentId":"a"} x`, "INVALID_JSON",
			"Request body is not a valid JSON object: syntax error at byte 17"},
		{"array", "/v1/sessions", `[]`, "INVALID_JSON",
			"Request body is not a valid JSON object: the body is a JSON array, not an object"},
		{"string", "/v1/webhooks", `"x"`, "INVALID_JSON",
			"Request body is not a valid JSON object: the body is a JSON string, not an object"},
		{"null", "/v1/appointments", `null`, "INVALID_JSON",
			"Request body is not a valid JSON object: the body is null"},
		{"empty", "/v1/sessions", ``, "INVALID_JSON", "Request body is empty; send a JSON object"},
		{"blank", "/v1/sessions/s1", " \n", "INVALID_JSON", "Request body is empty; send a JSON object"},
		{"unknown enum string", "/v1/sessions", `{"mode":"video"}`, "INVALID_FIELD",
			"mode must be one of: camera, screen"},
		{"unknown enum string in a list item", "/v1/sessions/bulk", `{"sessions":[{"language":"xx"}]}`,
			"INVALID_FIELD", "sessions[0].language must be one of: fr, en, es, de, it, pt, nl, pl, ru, zh"},
		{"unknown webhook event", "/v1/webhooks", `{"url":"https://crm.test/h","events":["session.created","x.y"]}`,
			"INVALID_EVENT", "Invalid event: x.y"},
		{"unknown webhook event in an update", "/v1/webhooks/w1", `{"events":["nope"]}`,
			"INVALID_EVENT", "Invalid event: nope"},
		{"webhook events not a list", "/v1/webhooks", `{"url":"https://crm.test/h","events":"session.created"}`,
			"INVALID_FIELD", "events must be an array of strings"},
		{"webhook event not a string", "/v1/webhooks", `{"url":"https://crm.test/h","events":[1]}`,
			"INVALID_FIELD", "events must be an array of strings"},
		{"wrong type", "/v1/sessions", `{"clientPhone":5}`, "INVALID_FIELD", "clientPhone: "},
		{"fraction for an integer", "/v1/appointments", `{"durationMinutes":7.5}`, "INVALID_FIELD",
			"durationMinutes: "},
	}
	for _, c := range cases {
		method := http.MethodPost
		if c.path == "/v1/sessions/s1" || c.path == "/v1/webhooks/w1" {
			method = http.MethodPatch
		}
		res, body := h.do(t, method, c.path, c.body, nil)
		t.Run(c.name, func(t *testing.T) {
			assertError(t, res, body, http.StatusBadRequest, c.code, c.message)
		})
	}
	if n := len(h.forwarded()); n != 0 {
		t.Errorf("the upstream received %d requests for rejected bodies, want 0", n)
	}
	// The stand-in upstream accepts the key, so the gateway remembers it.
	if n := h.keyChecks(); n != 1 {
		t.Errorf("the gateway verified the key %d times, want 1", n)
	}
}

func TestRESTBodyTooLarge(t *testing.T) {
	t.Parallel()
	h := newRESTHarness(t, restHarnessConfig{maxBytes: 64})
	body := `{"clientPhone":"+33612345678","agentId":"` + strings.Repeat("a", 64) + `"}`
	res, data := h.do(t, http.MethodPost, "/v1/sessions", body, nil)
	assertError(t, res, data, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE",
		"Request body exceeds 64 bytes; send a smaller JSON object")

	// A body within the limit passes.
	res, data = h.do(t, http.MethodPost, "/v1/sessions", restSessionBody, nil)
	if res.StatusCode != http.StatusCreated {
		t.Errorf("status of a body within the limit = %d, want 201; body %s", res.StatusCode, data)
	}
}

func TestRESTOptionalBody(t *testing.T) {
	t.Parallel()
	h := newRESTHarness(t, restHarnessConfig{})
	for _, path := range []string{"/v1/sessions/s1/end", "/v1/appointments/a1/cancel"} {
		res, body := h.do(t, http.MethodPost, path, "", nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("POST %s without a body: status = %d; body %s", path, res.StatusCode, body)
			continue
		}
		got := h.last(t)
		if got.path != path {
			t.Errorf("upstream path = %q, want %q", got.path, path)
		}
		if got.body != "{}" {
			t.Errorf("POST %s: upstream body = %q, want {}", path, got.body)
		}
	}
}

func TestRESTBodyFieldsReachUpstream(t *testing.T) {
	t.Parallel()
	h := newRESTHarness(t, restHarnessConfig{})
	// Null clears notes, an unknown key is dropped, and the path id is not
	// part of the body.
	h.do(t, http.MethodPatch, "/v1/sessions/s1", `{"notes":null,"sessionTags":["a"],"extra":1,"id":"other"}`, nil)
	got := h.last(t)
	if got.path != "/v1/sessions/s1" {
		t.Errorf("upstream path = %q, want /v1/sessions/s1", got.path)
	}
	assertJSON(t, []byte(got.body), `{"notes":null,"sessionTags":["a"]}`)
}

func TestRESTCodecMarshal(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		msg  proto.Message
		want string
	}{
		{"message", &groundcamv1.DeleteWebhookResponse{Deleted: proto.Bool(true)}, `{"data":{"deleted":true}}`},
		{"nil message", (*groundcamv1.Session)(nil), `{"data":null}`},
	}
	for _, c := range cases {
		got, err := restCodec{}.Marshal(c.msg)
		if err != nil {
			t.Errorf("%s: Marshal: %v", c.name, err)
			continue
		}
		assertJSON(t, got, c.want)
	}
	if _, err := (restCodec{}).Marshal(map[string]string{}); err == nil {
		t.Error("Marshal of a map: no error, want one")
	}
}

func FuzzRESTBody(f *testing.F) {
	for _, seed := range []string{
		restSessionBody, `{"metadata":{"a":null}}`, `{"sessionTags":"x"}`, `[`, `{"mode":"screen"}`, ` `,
		`{"agentId":"a","metadata":{"a":{"b":1}}}`, `{"ttlMinutes":1e400}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		err := decodeBody(strings.NewReader(body), &groundcamv1.CreateSessionRequest{})
		var failure *restError
		switch {
		case err == nil, errors.Is(err, io.EOF):
		case errors.As(err, &failure):
			if failure.status != http.StatusBadRequest || failure.message == "" {
				t.Errorf("rejection %d %q for %q, want 400 with a message", failure.status, failure.message, body)
			}
		default:
			t.Errorf("error %T %v for %q, want a *restError", err, err, body)
		}
	})
}
