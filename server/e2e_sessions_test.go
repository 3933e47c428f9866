package server_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// createSession creates a camera session of Sophie Bernard through the
// gateway and returns its id.
func (h *harness) createSession(change func(*groundcamv1.CreateSessionRequest)) string {
	h.t.Helper()
	req := &groundcamv1.CreateSessionRequest{
		ClientPhone: proto.String("+33612345678"),
		AgentId:     h.agentID("Sophie Bernard"),
		SendSms:     proto.Bool(false),
	}
	if change != nil {
		change(req)
	}
	res, err := h.sessions.CreateSession(context.Background(), connect.NewRequest(req))
	if err != nil {
		h.t.Fatalf("CreateSession: %v", err)
	}
	return res.Msg.GetSession().GetId()
}

// fixtureSessionID returns the id of the Acme fixture session with the CRM id.
func (h *harness) fixtureSessionID(crmID string) string {
	h.t.Helper()
	data := h.simGet("/v1/sessions?crmId=" + crmID)
	list := data["sessions"].([]any)
	if len(list) != 1 {
		h.t.Fatalf("simulator has %d sessions with crmId %s, want 1", len(list), crmID)
	}
	return list[0].(map[string]any)["id"].(string)
}

func TestCreateSessionStoresFields(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	agent := h.agentID("Sophie Bernard")
	res, err := h.sessions.CreateSession(context.Background(), connect.NewRequest(&groundcamv1.CreateSessionRequest{
		ClientPhone: proto.String("+33 6 12 34 56 78"),
		ClientName:  proto.String("Jean Dupont"),
		AgentId:     agent,
		CrmId:       proto.String("TICKET-9001"),
		TicketUrl:   proto.String("https://crm.example/tickets/9001"),
		Metadata: &groundcamv1.Metadata{Fields: map[string]*groundcamv1.MetadataValue{
			"department": {Kind: &groundcamv1.MetadataValue_StringValue{StringValue: "support"}},
			"priority":   {Kind: &groundcamv1.MetadataValue_NumberValue{NumberValue: 2}},
		}},
		Language:    groundcamv1.SmsLanguage_SMS_LANGUAGE_EN,
		TtlMinutes:  proto.Int32(10),
		SessionTags: []string{"installation"},
	}))
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	created := res.Msg.GetSession()
	if created.GetStatus() != groundcamv1.SessionStatus_SESSION_STATUS_PENDING {
		t.Errorf("status = %v, want pending", created.GetStatus())
	}
	if created.GetSms().GetStatus() != groundcamv1.SmsStatus_SMS_STATUS_SENT || created.GetSms().GetTo() != "+33612345678" {
		t.Errorf("sms = %v, want sent to +33612345678", created.GetSms())
	}
	if got := created.GetExpiresAt().AsTime().Sub(created.GetCreatedAt().AsTime()); got.Minutes() != 10 {
		t.Errorf("link lifetime = %v, want 10m", got)
	}

	stored := h.simGet("/v1/sessions/" + created.GetId())
	for field, want := range map[string]any{
		"clientPhone": "+33612345678",
		"clientName":  "Jean Dupont",
		"agentId":     agent,
		"crmId":       "TICKET-9001",
		"ticketUrl":   "https://crm.example/tickets/9001",
		"source":      "api",
		"clientUrl":   created.GetClientUrl(),
	} {
		if stored[field] != want {
			t.Errorf("stored %s = %v, want %v", field, stored[field], want)
		}
	}
	meta, _ := stored["metadata"].(map[string]any)
	if meta["department"] != "support" || meta["priority"] != 2.0 {
		t.Errorf("stored metadata = %v, want department support and priority 2", meta)
	}
	if tags, _ := stored["sessionTags"].([]any); len(tags) != 1 || tags[0] != "installation" {
		t.Errorf("stored sessionTags = %v, want [installation]", stored["sessionTags"])
	}
}

func TestCreateSessionUpstreamErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	bistroOwner := func() string {
		_, data := h.simCall(http.MethodGet, "/v1/agents", keyBistro, nil)
		return data["agents"].([]any)[0].(map[string]any)["id"].(string)
	}()
	trialOwner := func() string {
		_, data := h.simCall(http.MethodGet, "/v1/agents", keyTrial, nil)
		return data["agents"].([]any)[0].(map[string]any)["id"].(string)
	}()
	tests := []struct {
		name   string
		key    int
		agent  string
		sms    bool
		code   connect.Code
		reason string
		status int
	}{
		{"agent of another organization", keyAcme, "nobody", false,
			connect.CodePermissionDenied, "AGENT_NOT_MEMBER", 403},
		{"viewer agent", keyAcme, h.agentID("Emma Leroy"), false,
			connect.CodePermissionDenied, "INSUFFICIENT_ROLE", 403},
		{"disabled agent", keyAcme, h.agentID("Hugo Moreau"), false,
			connect.CodePermissionDenied, "AGENT_DISABLED", 403},
		{"organization without SMS", keyTrial, trialOwner, true,
			connect.CodeUnavailable, "SMS_NOT_CONFIGURED", 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.sessions.CreateSession(context.Background(), withKey(&groundcamv1.CreateSessionRequest{
				ClientPhone: proto.String("+33612345678"), AgentId: tc.agent, SendSms: proto.Bool(tc.sms),
			}, h.key(tc.key)))
			wantError(t, err, tc.code, tc.reason, tc.status)
		})
	}

	t.Run("no credits left", func(t *testing.T) {
		for range 2 { // the Bistro organization has 2 credits
			if _, err := h.sessions.CreateSession(context.Background(), withKey(&groundcamv1.CreateSessionRequest{
				ClientPhone: proto.String("+33612345678"), AgentId: bistroOwner, SendSms: proto.Bool(false),
			}, h.key(keyBistro))); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
		}
		_, err := h.sessions.CreateSession(context.Background(), withKey(&groundcamv1.CreateSessionRequest{
			ClientPhone: proto.String("+33612345678"), AgentId: bistroOwner, SendSms: proto.Bool(false),
		}, h.key(keyBistro)))
		cerr := wantError(t, err, connect.CodeFailedPrecondition, "INSUFFICIENT_CREDITS", 402)
		if cerr.Message() != "Insufficient credits" {
			t.Errorf("message = %q, want the upstream's %q", cerr.Message(), "Insufficient credits")
		}
	})
}

func TestCreateSessionLocalValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	before := h.sim.Calls()["POST /v1/sessions"]
	_, err := h.sessions.CreateSession(context.Background(), connect.NewRequest(&groundcamv1.CreateSessionRequest{
		ClientPhone: proto.String("0612345678"),
		AgentId:     h.agentID("Sophie Bernard"),
		TtlMinutes:  proto.Int32(30),
	}))
	cerr := wantError(t, err, connect.CodeInvalidArgument, "INVALID_PHONE", 400)
	if want := "Invalid phone format. Use international format (e.g., +33612345678)"; cerr.Message() != want {
		t.Errorf("message = %q, want %q", cerr.Message(), want)
	}
	if got := badRequestFields(t, cerr); !slices.Equal(got, []string{"client_phone", "ttl_minutes"}) {
		t.Errorf("BadRequest fields = %v, want [client_phone ttl_minutes]", got)
	}
	if after := h.sim.Calls()["POST /v1/sessions"]; after != before {
		t.Errorf("the simulator received %d create calls, want none", after-before)
	}

	// The same body sent straight to the simulator gives the same code and message.
	status, _ := h.simCall(http.MethodPost, "/v1/sessions", keyAcme, map[string]any{
		"clientPhone": "0612345678", "agentId": h.agentID("Sophie Bernard"), "ttlMinutes": 30,
	})
	if status != http.StatusBadRequest || h.lastSimError.Code != "INVALID_PHONE" || h.lastSimError.Message != cerr.Message() {
		t.Errorf("simulator answered %d %+v, want 400 with the gateway's code and message", status, h.lastSimError)
	}
}

func TestCreateSessionsBulk(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	agent := h.agentID("Sophie Bernard")
	res, err := h.sessions.CreateSessionsBulk(context.Background(), connect.NewRequest(&groundcamv1.CreateSessionsBulkRequest{
		Sessions: []*groundcamv1.BulkSessionInput{
			{ClientPhone: "+33612345678", AgentId: agent, CrmId: proto.String("BULK-1"), SendSms: proto.Bool(false)},
			{ClientPhone: "not a phone", AgentId: agent},
		},
	}))
	if err != nil {
		t.Fatalf("CreateSessionsBulk: %v", err)
	}
	results := res.Msg.GetResults()
	if len(results) != 2 {
		t.Fatalf("results = %d, want 2", len(results))
	}
	if !results[0].GetSuccess() || results[0].GetSession().GetCrmId() != "BULK-1" {
		t.Errorf("results[0] = %v, want a created session with crmId BULK-1", results[0])
	}
	if results[1].GetSuccess() || results[1].GetError().GetCode() != "INVALID_PHONE" {
		t.Errorf("results[1] = %v, want an INVALID_PHONE failure", results[1])
	}
	if s := res.Msg.GetSummary(); s.GetTotal() != 2 || s.GetSucceeded() != 1 || s.GetFailed() != 1 {
		t.Errorf("summary = %v, want 2 total, 1 succeeded, 1 failed", s)
	}
	stored := h.simGet("/v1/sessions/" + results[0].GetSession().GetId())
	if stored["crmId"] != "BULK-1" {
		t.Errorf("stored crmId = %v, want BULK-1", stored["crmId"])
	}

	t.Run("every item failing", func(t *testing.T) {
		_, err := h.sessions.CreateSessionsBulk(context.Background(), connect.NewRequest(&groundcamv1.CreateSessionsBulkRequest{
			Sessions: []*groundcamv1.BulkSessionInput{{ClientPhone: "+33612345678", AgentId: "nobody"}},
		}))
		wantError(t, err, connect.CodeInvalidArgument, "HTTP_400", 400)
		var failed groundcamv1.CreateSessionsBulkResponse
		if !upstream.ResultsOf(err, &failed) {
			t.Fatal("the error carries no per-item results")
		}
		if got := failed.GetResults()[0].GetError().GetCode(); got != "AGENT_NOT_MEMBER" {
			t.Errorf("item error = %q, want AGENT_NOT_MEMBER", got)
		}
	})
	t.Run("eleven items", func(t *testing.T) {
		items := make([]*groundcamv1.BulkSessionInput, 11)
		for i := range items {
			items[i] = &groundcamv1.BulkSessionInput{ClientPhone: "+33612345678", AgentId: agent}
		}
		_, err := h.sessions.CreateSessionsBulk(context.Background(),
			connect.NewRequest(&groundcamv1.CreateSessionsBulkRequest{Sessions: items}))
		cerr := wantError(t, err, connect.CodeInvalidArgument, "TOO_MANY_SESSIONS", 400)
		if got := badRequestFields(t, cerr); !slices.Equal(got, []string{"sessions"}) {
			t.Errorf("BadRequest fields = %v, want [sessions]", got)
		}
	})
}

func TestListSessions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	res, err := h.sessions.ListSessions(context.Background(), connect.NewRequest(&groundcamv1.ListSessionsRequest{
		Limit: proto.Int32(2),
	}))
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	stored := h.simGet("/v1/sessions?limit=2")
	want := stored["sessions"].([]any)
	got := res.Msg.GetSessions()
	if len(got) != len(want) {
		t.Fatalf("sessions = %d, want %d", len(got), len(want))
	}
	for i := range got {
		if id := want[i].(map[string]any)["id"]; got[i].GetId() != id {
			t.Errorf("sessions[%d].id = %q, want %v", i, got[i].GetId(), id)
		}
	}
	page := res.Msg.GetPagination()
	if page.GetLimit() != 2 || !page.GetHasMore() || page.GetNextCursor() != got[1].GetId() {
		t.Errorf("pagination = %v, want limit 2, more pages, cursor %s", page, got[1].GetId())
	}

	next, err := h.sessions.ListSessions(context.Background(), connect.NewRequest(&groundcamv1.ListSessionsRequest{
		Limit: proto.Int32(2), StartAfter: page.NextCursor,
	}))
	if err != nil {
		t.Fatalf("ListSessions page 2: %v", err)
	}
	if len(next.Msg.GetSessions()) == 0 || next.Msg.GetSessions()[0].GetId() == got[1].GetId() {
		t.Errorf("page 2 starts with %v, want the session after the cursor", next.Msg.GetSessions())
	}

	filtered, err := h.sessions.ListSessions(context.Background(), connect.NewRequest(&groundcamv1.ListSessionsRequest{
		Status:   groundcamv1.SessionStatus_SESSION_STATUS_COMPLETED,
		Metadata: map[string]string{"department": "support"},
	}))
	if err != nil {
		t.Fatalf("ListSessions filtered: %v", err)
	}
	for _, s := range filtered.Msg.GetSessions() {
		if s.GetStatus() != groundcamv1.SessionStatus_SESSION_STATUS_COMPLETED {
			t.Errorf("session %s status = %v, want completed", s.GetId(), s.GetStatus())
		}
	}
	if len(filtered.Msg.GetSessions()) == 0 {
		t.Error("no completed support session listed; the fixture has one")
	}

	_, err = h.sessions.ListSessions(context.Background(), connect.NewRequest(&groundcamv1.ListSessionsRequest{
		Limit: proto.Int32(101),
	}))
	wantError(t, err, connect.CodeInvalidArgument, "INVALID_FIELD", 400)
}

func TestGetSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	id := h.fixtureSessionID("TICKET-1001")
	res, err := h.sessions.GetSession(context.Background(), connect.NewRequest(&groundcamv1.GetSessionRequest{Id: id}))
	if err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	s := res.Msg.GetSession()
	stored := h.simGet("/v1/sessions/" + id)
	if s.GetNotes() != stored["notes"] || s.GetClosureTypeName() != stored["closureTypeName"] ||
		s.GetClientRating() != stored["clientRating"] || s.GetClientPhone() != stored["clientPhone"] {
		t.Errorf("session = %v, want the stored %v", s, stored)
	}
	if s.GetScreenshotsCount() != 2 || s.GetRecordingsCount() != 1 {
		t.Errorf("counts = %d screenshots, %d recordings, want 2 and 1",
			s.GetScreenshotsCount(), s.GetRecordingsCount())
	}

	_, err = h.sessions.GetSession(context.Background(), connect.NewRequest(&groundcamv1.GetSessionRequest{Id: "missing"}))
	cerr := wantError(t, err, connect.CodeNotFound, "NOT_FOUND", 404)
	if cerr.Message() != "Session not found" {
		t.Errorf("message = %q, want %q", cerr.Message(), "Session not found")
	}
}

func TestUpdateSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	id := h.createSession(nil)
	res, err := h.sessions.UpdateSession(context.Background(), connect.NewRequest(&groundcamv1.UpdateSessionRequest{
		Id:              id,
		Notes:           &groundcamv1.NullableString{Value: proto.String("Checked the boiler")},
		SessionTags:     &groundcamv1.StringList{Values: []string{"boiler", "done"}},
		ClosureTypeName: &groundcamv1.NullableString{Value: proto.String("Problem resolved")},
	}))
	if err != nil {
		t.Fatalf("UpdateSession: %v", err)
	}
	if res.Msg.GetSession().GetNotes() != "Checked the boiler" {
		t.Errorf("notes = %q, want the new notes", res.Msg.GetSession().GetNotes())
	}
	stored := h.simGet("/v1/sessions/" + id)
	if stored["notes"] != "Checked the boiler" || stored["closureTypeName"] != "Problem resolved" {
		t.Errorf("stored notes and closure = %v, %v", stored["notes"], stored["closureTypeName"])
	}

	// An empty wrapper is JSON null, which clears the notes.
	if _, err := h.sessions.UpdateSession(context.Background(), connect.NewRequest(&groundcamv1.UpdateSessionRequest{
		Id: id, Notes: &groundcamv1.NullableString{},
	})); err != nil {
		t.Fatalf("UpdateSession clearing notes: %v", err)
	}
	if stored := h.simGet("/v1/sessions/" + id); stored["notes"] != nil {
		t.Errorf("stored notes = %v, want null", stored["notes"])
	}

	_, err = h.sessions.UpdateSession(context.Background(), connect.NewRequest(&groundcamv1.UpdateSessionRequest{
		Id: id, ClosureTypeName: &groundcamv1.NullableString{Value: proto.String("Unknown type")},
	}))
	cerr := wantError(t, err, connect.CodeInvalidArgument, "INVALID_CLOSURE_TYPE", 400)
	if cerr.Message() != `Closure type "Unknown type" not found` {
		t.Errorf("message = %q, want the upstream's", cerr.Message())
	}

	_, err = h.sessions.UpdateSession(context.Background(), connect.NewRequest(&groundcamv1.UpdateSessionRequest{Id: id}))
	wantError(t, err, connect.CodeInvalidArgument, "MISSING_FIELD", 400)
}

func TestSessionLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})

	t.Run("cancel", func(t *testing.T) {
		id := h.createSession(nil)
		res, err := h.sessions.CancelSession(context.Background(),
			connect.NewRequest(&groundcamv1.CancelSessionRequest{Id: id}))
		if err != nil {
			t.Fatalf("CancelSession: %v", err)
		}
		if res.Msg.GetSession().GetStatus() != groundcamv1.SessionStatus_SESSION_STATUS_CANCELLED {
			t.Errorf("status = %v, want cancelled", res.Msg.GetSession().GetStatus())
		}
		if stored := h.simGet("/v1/sessions/" + id); stored["status"] != "cancelled" {
			t.Errorf("stored status = %v, want cancelled", stored["status"])
		}
		_, err = h.sessions.CancelSession(context.Background(), connect.NewRequest(&groundcamv1.CancelSessionRequest{Id: id}))
		wantError(t, err, connect.CodeFailedPrecondition, "INVALID_STATUS", 409)

		_, err = h.sessions.GenerateAgentAuthUrl(context.Background(),
			connect.NewRequest(&groundcamv1.GenerateAgentAuthUrlRequest{Id: id}))
		wantError(t, err, connect.CodeInvalidArgument, "INVALID_STATUS", 400)
	})

	t.Run("end", func(t *testing.T) {
		id := h.createSession(nil)
		h.simControl(http.MethodPost, "/_sim/sessions/"+id+"/admit", nil)
		res, err := h.sessions.EndSession(context.Background(), connect.NewRequest(&groundcamv1.EndSessionRequest{
			Id: id, AgentDuration: proto.Float64(798), ClientDuration: proto.Float64(750),
			ClosureTypeName: &groundcamv1.NullableString{Value: proto.String("Problem resolved")},
		}))
		if err != nil {
			t.Fatalf("EndSession: %v", err)
		}
		s := res.Msg.GetSession()
		if s.GetStatus() != groundcamv1.SessionStatus_SESSION_STATUS_COMPLETED || s.GetAgentDuration() != 798 {
			t.Errorf("session = %v, want completed with agentDuration 798", s)
		}
		stored := h.simGet("/v1/sessions/" + id)
		if stored["status"] != "completed" || stored["clientDuration"] != 750.0 {
			t.Errorf("stored status and clientDuration = %v, %v", stored["status"], stored["clientDuration"])
		}
		_, err = h.sessions.EndSession(context.Background(), connect.NewRequest(&groundcamv1.EndSessionRequest{Id: id}))
		cerr := wantError(t, err, connect.CodeFailedPrecondition, "INVALID_STATUS", 409)
		if cerr.Message() != "Session is already completed" {
			t.Errorf("message = %q, want the upstream's", cerr.Message())
		}
	})

	t.Run("resend SMS", func(t *testing.T) {
		id := h.createSession(func(r *groundcamv1.CreateSessionRequest) { r.SendSms = nil })
		res, err := h.sessions.ResendSessionSms(context.Background(),
			connect.NewRequest(&groundcamv1.ResendSessionSmsRequest{Id: id}))
		if err != nil {
			t.Fatalf("ResendSessionSms: %v", err)
		}
		if res.Msg.GetSmsCount() != 2 || res.Msg.GetMaxSms() != 3 || res.Msg.GetSession().GetId() != id {
			t.Errorf("resend = %d of %d SMS for %s, want 2 of 3 for %s",
				res.Msg.GetSmsCount(), res.Msg.GetMaxSms(), res.Msg.GetSession().GetId(), id)
		}
		if _, err := h.sessions.ResendSessionSms(context.Background(),
			connect.NewRequest(&groundcamv1.ResendSessionSmsRequest{Id: id})); err != nil {
			t.Fatalf("second ResendSessionSms: %v", err)
		}
		_, err = h.sessions.ResendSessionSms(context.Background(),
			connect.NewRequest(&groundcamv1.ResendSessionSmsRequest{Id: id}))
		wantError(t, err, connect.CodeResourceExhausted, "SMS_LIMIT_REACHED", 429)
	})

	t.Run("agent auth URL", func(t *testing.T) {
		id := h.createSession(nil)
		res, err := h.sessions.GenerateAgentAuthUrl(context.Background(),
			connect.NewRequest(&groundcamv1.GenerateAgentAuthUrlRequest{Id: id}))
		if err != nil {
			t.Fatalf("GenerateAgentAuthUrl: %v", err)
		}
		if res.Msg.GetLobbyId() != id || !strings.Contains(res.Msg.GetAuthUrl(), "token=") {
			t.Errorf("auth URL response = %v, want a token URL for %s", res.Msg, id)
		}
		for range 4 {
			if _, err := h.sessions.GenerateAgentAuthUrl(context.Background(),
				connect.NewRequest(&groundcamv1.GenerateAgentAuthUrlRequest{Id: id})); err != nil {
				t.Fatalf("GenerateAgentAuthUrl: %v", err)
			}
		}
		_, err = h.sessions.GenerateAgentAuthUrl(context.Background(),
			connect.NewRequest(&groundcamv1.GenerateAgentAuthUrlRequest{Id: id}))
		cerr := wantError(t, err, connect.CodeResourceExhausted, "TOKEN_RATE_LIMITED", 429)
		if info := retryInfo(t, cerr); info == nil || info.GetRetryDelay().AsDuration() <= 0 {
			t.Errorf("RetryInfo = %v, want a positive delay from Retry-After", info)
		}
	})
}

func TestSessionMedia(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	id := h.createSession(nil)
	h.simControl(http.MethodPost, "/_sim/sessions/"+id+"/admit", nil)
	shot := h.simControl(http.MethodPost, "/_sim/sessions/"+id+"/screenshots", map[string]any{
		"tags": []string{"meter"}, "location": map[string]any{"latitude": 48.85, "longitude": 2.35},
	})

	shots, err := h.sessions.GetSessionScreenshots(context.Background(),
		connect.NewRequest(&groundcamv1.GetSessionScreenshotsRequest{Id: id, UrlTtl: proto.Int32(60)}))
	if err != nil {
		t.Fatalf("GetSessionScreenshots: %v", err)
	}
	if len(shots.Msg.GetScreenshots()) != 1 {
		t.Fatalf("screenshots = %d, want 1", len(shots.Msg.GetScreenshots()))
	}
	got := shots.Msg.GetScreenshots()[0]
	if got.GetId() != shot["id"] || got.GetLocation().GetLatitude() != 48.85 || !slices.Equal(got.GetTags(), []string{"meter"}) {
		t.Errorf("screenshot = %v, want the captured %v", got, shot)
	}

	_, err = h.sessions.GetSessionScreenshots(context.Background(),
		connect.NewRequest(&groundcamv1.GetSessionScreenshotsRequest{Id: id, UrlTtl: proto.Int32(59)}))
	cerr := wantError(t, err, connect.CodeInvalidArgument, "INVALID_FIELD", 400)
	if got := badRequestFields(t, cerr); !slices.Equal(got, []string{"url_ttl"}) {
		t.Errorf("BadRequest fields = %v, want [url_ttl]", got)
	}

	rec := h.simControl(http.MethodPost, "/_sim/sessions/"+id+"/recordings", map[string]any{"duration": 42})
	recs, err := h.sessions.GetSessionRecordings(context.Background(),
		connect.NewRequest(&groundcamv1.GetSessionRecordingsRequest{Id: id}))
	if err != nil {
		t.Fatalf("GetSessionRecordings: %v", err)
	}
	if len(recs.Msg.GetRecordings()) != 1 || recs.Msg.GetRecordings()[0].GetId() != rec["id"] {
		t.Errorf("recordings = %v, want the recording %v", recs.Msg.GetRecordings(), rec["id"])
	}
	stored := h.simGet("/v1/sessions/" + id + "/recordings")
	if url := stored["recordings"].([]any)[0].(map[string]any)["url"]; recs.Msg.GetRecordings()[0].GetUrl() != url {
		t.Errorf("recording URL = %q, want the stored %v", recs.Msg.GetRecordings()[0].GetUrl(), url)
	}
}
