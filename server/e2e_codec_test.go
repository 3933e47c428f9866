package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The Connect JSON face rejects what connect-go's default codec would
// drop, so a typo never turns into a request with default values.
func TestConnectJSONRejectsUnknownNames(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	agent := h.agentID("Sophie Bernard")

	cases := []struct {
		name, procedure, body, mention string
	}{
		{"unknown enum name", "SessionService/CreateSession",
			`{"agentId":"` + agent + `","mode":"SESSION_MODE_SCREN","clientPhone":"+33612345678"}`, "SESSION_MODE_SCREN"},
		{"unknown filter enum", "AgentService/ListAgents", `{"role":"AGENT_ROLE_BOSS"}`, "AGENT_ROLE_BOSS"},
		{"unknown field", "SessionService/GetSessionScreenshots", `{"id":"x","urlTtl":59}`, "urlTtl"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, h.url+"/groundcam.v1."+tc.procedure, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			res, err := h.http1.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400; body %s", res.StatusCode, body)
			}
			if !strings.Contains(string(body), `"invalid_argument"`) {
				t.Errorf("body %s lacks code invalid_argument", body)
			}
			if !strings.Contains(string(body), tc.mention) {
				t.Errorf("body %s does not name %q", body, tc.mention)
			}
		})
	}
	if calls := h.sim.Calls()["POST /v1/sessions"]; calls != 0 {
		t.Errorf("the upstream received %d creates, want 0", calls)
	}
}
