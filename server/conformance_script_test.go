package server

import (
	"fmt"
	"net/http"
	"strings"
)

// conformanceStep is one step of the conformance script: a REST request
// whose responses are compared, a control call made on both simulators, or a
// pair of creates that race on one idempotency key.
type conformanceStep struct {
	name string
	// request is the method and path, such as "GET /v1/sessions/{{s1}}";
	// {{name}} stands for a value captured by an earlier step.
	request string
	body    string
	// key selects the Authorization header: "" for the Acme key, a fixture
	// key name (bistro, nordlicht, revoked, orphan), "none" for no header,
	// a value with a space for that exact header, or else a bearer token.
	key    string
	header http.Header
	// capture stores strings of the response body under names, by dotted
	// path such as "data.agents.0.id".
	capture map[string]string
	// local declares that the gateway responds to the step without calling
	// the upstream, so its response has no rate-limit headers.
	local bool
	// keyError declares that the gateway returns the upstream's error for
	// the key, from its key check (GET /v1/auth/verify), before the REST
	// face rejects the request. That check is the step's upstream call.
	keyError bool
	// note names a known difference; the comparison logs it instead of
	// failing, and fails when the difference is gone.
	note string
	// contractGap is the reason why the response, the upstream's and the
	// gateway's alike, breaks the contract's schema. The contract check
	// logs it instead of failing.
	contractGap string
	// control, such as "POST /_sim/sessions/{{s1}}/admit", makes the step a
	// control API call with body on both simulators.
	control string
	// inflight is a create that the simulator holds on its create delay
	// while this step, with the same idempotency key, is sent.
	inflight *conformanceStep
}

// Known differences between the simulator and the gateway, by cause.
const (
	// A value that the proto type cannot hold is rejected while the body
	// or query is decoded, with jsonmap's wording.
	noteUnrepresentable = "NOTE: the value cannot be held by the request message, so the REST face " +
		"rejects it while decoding, with its own message"
	// A repeated field has no presence, so an absent list reaches the
	// validation interceptor as an empty one.
	noteAbsentList = "NOTE: an absent list and an empty one are the same request message, so the " +
		"validation interceptor returns the empty-list error (server/validate_*.go)"
)

// conformanceScript returns the script. hookURL is an HTTPS endpoint that
// accepts webhook deliveries.
func conformanceScript(hookURL string) []conformanceStep {
	var s []conformanceStep
	s = append(s, accountSteps()...)
	s = append(s, sessionReadSteps()...)
	s = append(s, sessionCreateSteps()...)
	s = append(s, sessionActionSteps()...)
	s = append(s, bulkSteps()...)
	s = append(s, webhookSteps(hookURL)...)
	s = append(s, appointmentSteps()...)
	s = append(s, errorSteps()...)
	s = append(s, keyPrecedenceSteps()...)
	return s
}

// accountSteps covers auth, agents, credits, organization, stats,
// closure types and tags, and captures the agents' ids.
func accountSteps() []conformanceStep {
	return []conformanceStep{
		{name: "verify key", request: "GET /v1/auth/verify"},
		{name: "list agents", request: "GET /v1/agents", capture: map[string]string{
			"owner": "data.agents.0.id", "admin": "data.agents.1.id", "agent": "data.agents.2.id",
			"agent2": "data.agents.3.id", "viewer": "data.agents.4.id",
		}},
		{name: "list agents with disabled", request: "GET /v1/agents?includeDisabled=true",
			capture: map[string]string{"disabled": "data.agents.5.id"}},
		{name: "list agents by role", request: "GET /v1/agents?role=agent&includeDisabled=false"},
		{name: "list agents with an empty boolean", request: "GET /v1/agents?includeDisabled="},
		{name: "list agents with an unknown parameter", request: "GET /v1/agents?page=2"},
		{name: "list agents with a bad role", request: "GET /v1/agents?role=bogus", local: true},
		{name: "list agents with a bad boolean", request: "GET /v1/agents?includeDisabled=maybe", local: true},
		{name: "list bistro agents", request: "GET /v1/agents", key: "bistro",
			capture: map[string]string{"bistroAgent": "data.agents.1.id"}},
		{name: "list nordlicht agents", request: "GET /v1/agents", key: "nordlicht",
			capture: map[string]string{"nordlichtAgent": "data.agents.1.id"}},
		{name: "get credits", request: "GET /v1/credits"},
		{name: "get credits of a trial", request: "GET /v1/credits", key: "nordlicht"},
		{name: "get organization", request: "GET /v1/organization"},
		{name: "get stats", request: "GET /v1/stats"},
		{name: "get stats of a day", request: "GET /v1/stats?period=day"},
		{name: "get stats of a week", request: "GET /v1/stats?period=week", key: "bistro"},
		{name: "get stats of a bad period", request: "GET /v1/stats?period=year", local: true},
		{name: "list closure types", request: "GET /v1/closure-types"},
		{name: "list closure types of a trial", request: "GET /v1/closure-types", key: "nordlicht"},
		{name: "list tags", request: "GET /v1/tags"},
	}
}

// sessionReadSteps covers listing, filters, pagination and reads of the
// fixture's sessions.
func sessionReadSteps() []conformanceStep {
	return []conformanceStep{
		{name: "list sessions", request: "GET /v1/sessions", capture: map[string]string{
			"fixPending": "data.sessions.0.id", "fixActive": "data.sessions.1.id",
			"fixExpired": "data.sessions.2.id", "fixCancelled": "data.sessions.3.id",
			"fixCompleted": "data.sessions.5.id",
		}},
		{name: "list sessions page 1", request: "GET /v1/sessions?limit=3",
			capture: map[string]string{"cursor": "data.pagination.nextCursor"}},
		{name: "list sessions page 2", request: "GET /v1/sessions?limit=3&startAfter={{cursor}}"},
		{name: "list sessions by status", request: "GET /v1/sessions?status=completed"},
		{name: "list sessions by agent", request: "GET /v1/sessions?agentId={{agent}}"},
		{name: "list sessions by crm id", request: "GET /v1/sessions?crmId=TICKET-1001"},
		{name: "list sessions by metadata", request: "GET /v1/sessions?metadata.department=support"},
		{name: "list sessions by two metadata keys",
			request: "GET /v1/sessions?metadata.department=billing&metadata.invoice=4521"},
		{name: "list sessions created after an offset time",
			request: "GET /v1/sessions?createdAfter=2026-03-12T10:00:00%2B02:00"},
		{name: "list sessions created in a range",
			request: "GET /v1/sessions?createdAfter=2026-03-01T00:00:00Z&createdBefore=2026-03-12T12:00:00.000Z"},
		{name: "list sessions updated after", request: "GET /v1/sessions?updatedAfter=2026-03-12T10:00:00Z"},
		{name: "list sessions with both filter kinds",
			request: "GET /v1/sessions?updatedAfter=2026-03-12T10:00:00Z&createdAfter=2026-03-01T00:00:00Z",
			local:   true},
		{name: "list sessions with a limit over 100", request: "GET /v1/sessions?limit=500", local: true},
		{name: "list sessions with a limit that is no number", request: "GET /v1/sessions?limit=abc",
			local: true, note: noteUnrepresentable},
		{name: "list sessions with a bad timestamp", request: "GET /v1/sessions?createdAfter=yesterday",
			local: true},
		{name: "list sessions after an unknown cursor", request: "GET /v1/sessions?startAfter=nope"},
		{name: "list sessions by an empty metadata key", request: "GET /v1/sessions?metadata.=support"},
		{name: "list sessions with a bad status", request: "GET /v1/sessions?status=open", local: true},
		{name: "get a session", request: "GET /v1/sessions/{{fixCompleted}}"},
		{name: "get an unknown session", request: "GET /v1/sessions/nope"},
		{name: "list screenshots", request: "GET /v1/sessions/{{fixCompleted}}/screenshots"},
		{name: "list screenshots with url_ttl", request: "GET /v1/sessions/{{fixCompleted}}/screenshots?url_ttl=60"},
		{name: "list screenshots with url_ttl too short",
			request: "GET /v1/sessions/{{fixCompleted}}/screenshots?url_ttl=10", local: true},
		{name: "list screenshots of an unknown session", request: "GET /v1/sessions/nope/screenshots"},
		{name: "list recordings", request: "GET /v1/sessions/{{fixCompleted}}/recordings"},
		{name: "list recordings of an unknown session", request: "GET /v1/sessions/nope/recordings"},
	}
}

// sessionCreateSteps covers POST /sessions, its validation, agent, credit
// and SMS errors, and idempotency.
func sessionCreateSteps() []conformanceStep {
	full := `{"clientPhone":"+33 6 12 34 56 78","clientName":"Jean Dupont","agentId":"{{agent}}",` +
		`"crmId":"TICKET-2001","ticketUrl":"https://crm.example.com/tickets/2001",` +
		`"metadata":{"department":"support","priority":2,"vip":true},"sessionTags":["installation"],` +
		`"language":"en","ttlMinutes":15,"unknownField":1}`
	return []conformanceStep{
		{name: "create a session", request: "POST /v1/sessions", body: full,
			capture: map[string]string{"s1": "data.id"}},
		{name: "create a screen session", request: "POST /v1/sessions",
			body:    `{"agentId":"{{agent2}}","mode":"screen","clientEmail":"camille@email.example","clientName":null}`,
			capture: map[string]string{"s2": "data.id"}},
		{name: "create a session without SMS", request: "POST /v1/sessions",
			body:    `{"agentId":"{{admin}}","clientPhone":"+33698765432","sendSms":false}`,
			capture: map[string]string{"s3": "data.id"}},
		{name: "create a session without phone", request: "POST /v1/sessions",
			body: `{"agentId":"{{agent}}"}`, local: true},
		{name: "create a session with a bad phone", request: "POST /v1/sessions",
			body: `{"agentId":"{{agent}}","clientPhone":"0612"}`, local: true},
		{name: "create a session with a bad mode", request: "POST /v1/sessions",
			body: `{"agentId":"{{agent}}","mode":"video"}`, local: true},
		{name: "create a session with a bad email", request: "POST /v1/sessions",
			body: `{"agentId":"{{agent}}","clientPhone":"+33612345678","clientEmail":"nope"}`},
		{name: "create a session with too much metadata", request: "POST /v1/sessions",
			body:  `{"agentId":"{{agent}}","clientPhone":"+33612345678","metadata":` + conformanceMetadataKeys(21) + `}`,
			local: true},
		{name: "create a session with a null metadata value", request: "POST /v1/sessions",
			body: `{"agentId":"{{agent}}","clientPhone":"+33612345678","metadata":{"a":null}}`, local: true},
		{name: "create a session with a bad ttl", request: "POST /v1/sessions",
			body: `{"agentId":"{{agent}}","clientPhone":"+33612345678","ttlMinutes":7}`, local: true},
		{name: "create a session with a phone of the wrong type", request: "POST /v1/sessions",
			body: `{"agentId":"{{agent}}","clientPhone":612345678}`, local: true, note: noteUnrepresentable},
		{name: "create a session for a stranger", request: "POST /v1/sessions",
			body: `{"agentId":"nobody","clientPhone":"+33612345678"}`},
		{name: "create a session for a disabled agent", request: "POST /v1/sessions",
			body: `{"agentId":"{{disabled}}","clientPhone":"+33612345678"}`},
		{name: "create a session for a viewer", request: "POST /v1/sessions",
			body: `{"agentId":"{{viewer}}","clientPhone":"+33612345678"}`},
		{name: "create a session whose SMS fails", request: "POST /v1/sessions",
			body: `{"agentId":"{{agent}}","clientPhone":"+15005550001"}`},
		{name: "create a session without SMS configured", request: "POST /v1/sessions", key: "nordlicht",
			body: `{"agentId":"{{nordlichtAgent}}","clientPhone":"+4915112345678"}`},
		{name: "create a bistro session", request: "POST /v1/sessions", key: "bistro",
			body:    `{"agentId":"{{bistroAgent}}","clientPhone":"+33611111111"}`,
			capture: map[string]string{"b1": "data.id"}},
		{name: "create a second bistro session", request: "POST /v1/sessions", key: "bistro",
			body: `{"agentId":"{{bistroAgent}}","clientPhone":"+33622222222","sendSms":false}`},
		{name: "create a bistro session without credits", request: "POST /v1/sessions", key: "bistro",
			body: `{"agentId":"{{bistroAgent}}","clientPhone":"+33633333333"}`},
		{name: "create with an idempotency key", request: "POST /v1/sessions",
			header: http.Header{"Idempotency-Key": {"conformance-1"}},
			body:   `{"agentId":"{{agent}}","clientPhone":"+33612340001","sendSms":false}`},
		{name: "replay the idempotency key", request: "POST /v1/sessions",
			header: http.Header{"Idempotency-Key": {"conformance-1"}},
			body:   `{"agentId":"{{agent}}","clientPhone":"+33612340001","sendSms":false}`},
		{name: "reuse the key on another operation", request: "POST /v1/sessions/bulk",
			header: http.Header{"X-Idempotency-Key": {"conformance-1"}},
			body:   `{"sessions":[{"agentId":"{{agent}}","clientPhone":"+33612340002"}]}`},
		{name: "create with an idempotency key that is too long", request: "POST /v1/sessions",
			header: http.Header{"Idempotency-Key": {strings.Repeat("k", 256)}},
			body:   `{"agentId":"{{agent}}","clientPhone":"+33612340003"}`},
		{name: "race on an idempotency key", request: "POST /v1/sessions",
			header: http.Header{"Idempotency-Key": {"conformance-2"}},
			body:   `{"agentId":"{{agent}}","clientPhone":"+33612340004","sendSms":false}`,
			inflight: &conformanceStep{name: "create held by the create delay", request: "POST /v1/sessions",
				header: http.Header{"Idempotency-Key": {"conformance-2"}},
				body:   `{"agentId":"{{agent}}","clientPhone":"+33612340004","sendSms":false}`}},
		{name: "create with malformed JSON", request: "POST /v1/sessions", body: `{"agentId":`, local: true},
		{name: "create with an empty body", request: "POST /v1/sessions", local: true},
		{name: "create with an array body", request: "POST /v1/sessions", body: `[]`, local: true},
		{name: "create with a body over 1 MiB", request: "POST /v1/sessions",
			body: `{"notes":"` + strings.Repeat("x", 1<<20) + `"}`, local: true},
	}
}

// sessionActionSteps covers update, agent auth URLs, resend SMS, cancel,
// end, screenshots and recordings over the session lifecycle.
func sessionActionSteps() []conformanceStep {
	return []conformanceStep{
		{name: "get the created session", request: "GET /v1/sessions/{{s1}}"},
		{name: "update a session", request: "PATCH /v1/sessions/{{s1}}",
			body: `{"notes":"Kitchen sink","sessionTags":["plumbing","urgent"],"closureTypeName":"Problem resolved"}`},
		{name: "clear notes", request: "PATCH /v1/sessions/{{s1}}", body: `{"notes":null}`},
		{name: "update with an unknown closure type", request: "PATCH /v1/sessions/{{s1}}",
			body: `{"closureTypeName":"Unknown type"}`},
		{name: "update with nothing", request: "PATCH /v1/sessions/{{s1}}", body: `{}`, local: true},
		{name: "update an unknown session", request: "PATCH /v1/sessions/nope", body: `{"notes":"x"}`},
		{name: "agent auth URL 1", request: "POST /v1/sessions/{{s1}}/agent-auth-url"},
		{name: "agent auth URL 2", request: "POST /v1/sessions/{{s1}}/agent-auth-url"},
		{name: "agent auth URL 3", request: "POST /v1/sessions/{{s1}}/agent-auth-url"},
		{name: "agent auth URL 4", request: "POST /v1/sessions/{{s1}}/agent-auth-url"},
		{name: "agent auth URL 5", request: "POST /v1/sessions/{{s1}}/agent-auth-url"},
		{name: "agent auth URL over the hourly limit", request: "POST /v1/sessions/{{s1}}/agent-auth-url"},
		{name: "agent auth URL of an unknown session", request: "POST /v1/sessions/nope/agent-auth-url"},
		{name: "resend SMS", request: "POST /v1/sessions/{{s1}}/resend-sms"},
		{name: "resend SMS again", request: "POST /v1/sessions/{{s1}}/resend-sms"},
		{name: "resend SMS over the session limit", request: "POST /v1/sessions/{{s1}}/resend-sms"},
		{name: "resend SMS over the bistro limit", request: "POST /v1/sessions/{{b1}}/resend-sms", key: "bistro"},
		{name: "resend SMS of a screen session", request: "POST /v1/sessions/{{s2}}/resend-sms"},
		{name: "resend SMS of an unknown session", request: "POST /v1/sessions/nope/resend-sms"},
		{name: "client joins", control: "POST /_sim/sessions/{{s1}}/join"},
		{name: "agent admits", control: "POST /_sim/sessions/{{s1}}/admit"},
		{name: "screenshot taken", control: "POST /_sim/sessions/{{s1}}/screenshots",
			body: `{"tags":["defect"],"location":{"latitude":48.8566,"longitude":2.3522}}`},
		{name: "screenshot without location", control: "POST /_sim/sessions/{{s1}}/screenshots"},
		{name: "recording made", control: "POST /_sim/sessions/{{s1}}/recordings"},
		{name: "list screenshots of the active session", request: "GET /v1/sessions/{{s1}}/screenshots?url_ttl=120"},
		{name: "list recordings of the active session", request: "GET /v1/sessions/{{s1}}/recordings"},
		{name: "resend SMS of an active session", request: "POST /v1/sessions/{{s1}}/resend-sms"},
		{name: "cancel an active session", request: "POST /v1/sessions/{{s1}}/cancel"},
		{name: "end with an unknown closure type", request: "POST /v1/sessions/{{s1}}/end",
			body: `{"closureTypeName":"Unknown type"}`},
		{name: "end a session", request: "POST /v1/sessions/{{s1}}/end",
			body: `{"agentDuration":798,"clientDuration":750.5,"closureTypeName":"Problem resolved","notes":"Fixed"}`},
		{name: "end a completed session", request: "POST /v1/sessions/{{s1}}/end"},
		{name: "agent auth URL of a completed session", request: "POST /v1/sessions/{{s1}}/agent-auth-url"},
		{name: "client rates", control: "POST /_sim/sessions/{{s1}}/rate", body: `{"rating":5,"comment":"Great"}`},
		{name: "get the rated session", request: "GET /v1/sessions/{{s1}}"},
		{name: "end a pending session without a body", request: "POST /v1/sessions/{{s2}}/end"},
		{name: "cancel a pending session", request: "POST /v1/sessions/{{s3}}/cancel"},
		{name: "cancel a cancelled session", request: "POST /v1/sessions/{{s3}}/cancel"},
		{name: "cancel an expired session", request: "POST /v1/sessions/{{fixExpired}}/cancel"},
		{name: "cancel an unknown session", request: "POST /v1/sessions/nope/cancel"},
		{name: "end an unknown session", request: "POST /v1/sessions/nope/end", body: `{}`},
		{name: "end the fixture's active session", request: "POST /v1/sessions/{{fixActive}}/end",
			body: `{"notes":null,"closureTypeName":null}`},
		{name: "list sessions updated after the start",
			request: "GET /v1/sessions?updatedAfter=2026-03-12T15:30:00.000Z"},
		{name: "list tags after the updates", request: "GET /v1/tags"},
		{name: "get stats after the updates", request: "GET /v1/stats?period=day"},
	}
}

// bulkSteps covers POST /sessions/bulk: success, partial failure, all
// failed, structural errors and credits.
func bulkSteps() []conformanceStep {
	item := func(phone string) string {
		return `{"agentId":"{{agent}}","clientPhone":"` + phone + `","sendSms":false}`
	}
	items := make([]string, 11)
	for i := range items {
		items[i] = item(fmt.Sprintf("+3361000%04d", i))
	}
	return []conformanceStep{
		{name: "bulk create", request: "POST /v1/sessions/bulk",
			body: `{"sessions":[` + item("+33610000001") + `,{"agentId":"{{agent2}}","clientPhone":"+33610000002",` +
				`"clientName":"Marie","crmId":"TICKET-3001","metadata":{"batch":1},"language":"de","ttlMinutes":5}]}`},
		{name: "bulk create with failures", request: "POST /v1/sessions/bulk",
			body: `{"sessions":[` + item("+33610000003") + `,` + item("0610") + `,{"agentId":"{{viewer}}","clientPhone":"+33610000004"}]}`},
		{name: "bulk create where all fail", request: "POST /v1/sessions/bulk",
			body: `{"sessions":[` + item("0611") + `,{"clientPhone":"+33610000005"}]}`,
			contractGap: "the 400 of a bulk create whose items all fail has the 201's data shape, " +
				"which the operation's description states but its 400 schema (Error) does not"},
		{name: "bulk create with no items", request: "POST /v1/sessions/bulk", body: `{"sessions":[]}`, local: true},
		{name: "bulk create with 11 items", request: "POST /v1/sessions/bulk",
			body: `{"sessions":[` + strings.Join(items, ",") + `]}`, local: true},
		{name: "bulk create without sessions", request: "POST /v1/sessions/bulk", body: `{}`, local: true,
			note: noteAbsentList},
		{name: "bulk create without credits", request: "POST /v1/sessions/bulk", key: "bistro",
			body: `{"sessions":[{"agentId":"{{bistroAgent}}","clientPhone":"+33644444444"}]}`},
		{name: "list sessions after bulk", request: "GET /v1/sessions?limit=5"},
	}
}

// webhookSteps covers the webhook endpoints and their deliveries.
func webhookSteps(hookURL string) []conformanceStep {
	return []conformanceStep{
		{name: "create a webhook", request: "POST /v1/webhooks",
			body:    `{"url":"` + hookURL + `","events":["session.rated","appointment.updated"]}`,
			capture: map[string]string{"w1": "data.id"}},
		{name: "create a duplicate webhook", request: "POST /v1/webhooks",
			body: `{"url":"` + hookURL + `","events":["session.rated"]}`},
		{name: "create a webhook over HTTP", request: "POST /v1/webhooks",
			body: `{"url":"http://crm.example.com/hooks","events":["session.rated"]}`, local: true},
		{name: "create a webhook with an unknown event", request: "POST /v1/webhooks",
			body:  `{"url":"https://crm.example.com/hooks","events":["session.created","session.unknown"]}`,
			local: true},
		{name: "create a webhook without events", request: "POST /v1/webhooks",
			body: `{"url":"https://crm.example.com/hooks"}`, local: true, note: noteAbsentList},
		{name: "list webhooks", request: "GET /v1/webhooks"},
		{name: "update a webhook", request: "PATCH /v1/webhooks/{{w1}}",
			body: `{"events":["session.completed","session.cancelled"],"active":false}`},
		{name: "update a webhook with an unknown event", request: "PATCH /v1/webhooks/{{w1}}",
			body: `{"events":["session.unknown"]}`, local: true},
		{name: "update a webhook with nothing", request: "PATCH /v1/webhooks/{{w1}}", body: `{}`, local: true},
		{name: "update an unknown webhook", request: "PATCH /v1/webhooks/nope", body: `{"active":true}`},
		{name: "test a webhook", request: "POST /v1/webhooks/{{w1}}/test"},
		{name: "test an unknown webhook", request: "POST /v1/webhooks/nope/test"},
		{name: "list deliveries", request: "GET /v1/webhooks/{{w1}}/deliveries"},
		{name: "list deliveries with filters",
			request: "GET /v1/webhooks/{{w1}}/deliveries?limit=1&status=delivered&eventType=webhook.test" +
				"&createdAfter=2026-03-12T15:00:00%2B00:00"},
		{name: "list deliveries with a bad status", request: "GET /v1/webhooks/{{w1}}/deliveries?status=lost",
			local: true},
		{name: "list deliveries of an unknown webhook", request: "GET /v1/webhooks/nope/deliveries"},
		{name: "delete a webhook", request: "DELETE /v1/webhooks/{{w1}}"},
		{name: "delete a deleted webhook", request: "DELETE /v1/webhooks/{{w1}}"},
	}
}

// appointmentSteps covers the appointment endpoints.
func appointmentSteps() []conformanceStep {
	camera := func(at string) string {
		return `{"agentId":"{{agent}}","clientPhone":"+33612345678","clientName":"Jean Dupont",` +
			`"scheduledAt":"` + at + `","durationMinutes":15,"notifyBy":"sms","crmId":"ODOO-1",` +
			`"ticketUrl":"https://odoo.example.com/1","metadata":{"odoo_ticket_id":"12345"},"notes":"Install"}`
	}
	return []conformanceStep{
		{name: "create an appointment", request: "POST /v1/appointments", body: camera("2026-03-20T14:30:00.000Z"),
			capture: map[string]string{"a1": "data.id"}},
		{name: "create an appointment at an offset time", request: "POST /v1/appointments",
			body:    camera("2026-03-21T16:30:00+02:00"),
			capture: map[string]string{"a2": "data.id"}},
		{name: "create a screen appointment", request: "POST /v1/appointments",
			body: `{"agentId":"{{agent2}}","mode":"screen","clientEmail":"camille@email.example",` +
				`"scheduledAt":"2026-03-20T09:00:00Z","durationMinutes":20,"notifyBy":"both"}`},
		{name: "create an overlapping appointment", request: "POST /v1/appointments",
			body: camera("2026-03-20T14:35:00.000Z")},
		{name: "create an appointment off the grid", request: "POST /v1/appointments",
			body: camera("2026-03-20T14:32:00.000Z")},
		{name: "create an appointment in the past", request: "POST /v1/appointments",
			body: camera("2026-03-01T10:00:00.000Z")},
		{name: "create an appointment without a time", request: "POST /v1/appointments",
			body: `{"agentId":"{{agent}}","durationMinutes":15}`, local: true},
		{name: "create a screen appointment without email", request: "POST /v1/appointments",
			body: `{"agentId":"{{agent}}","mode":"screen","scheduledAt":"2026-03-22T10:00:00Z","durationMinutes":10}`},
		{name: "create an appointment for a viewer", request: "POST /v1/appointments",
			body: `{"agentId":"{{viewer}}","clientPhone":"+33612345678","scheduledAt":"2026-03-22T10:00:00Z",` +
				`"durationMinutes":10,"notifyBy":"sms"}`},
		{name: "create an appointment without scheduling", request: "POST /v1/appointments", key: "nordlicht",
			body: `{"agentId":"{{nordlichtAgent}}","clientPhone":"+4915112345678",` +
				`"scheduledAt":"2026-03-22T10:00:00Z","durationMinutes":10,"notifyBy":"sms"}`},
		{name: "list appointments", request: "GET /v1/appointments"},
		{name: "list appointments page 1", request: "GET /v1/appointments?limit=1",
			capture: map[string]string{"aCursor": "data.pagination.nextCursor"}},
		{name: "list appointments page 2", request: "GET /v1/appointments?limit=1&startAfter={{aCursor}}"},
		{name: "list appointments by metadata", request: "GET /v1/appointments?metadata.odoo_ticket_id=12345"},
		{name: "list appointments by status", request: "GET /v1/appointments?status=scheduled&agentId={{agent}}"},
		{name: "list appointments scheduled in a range",
			request: "GET /v1/appointments?scheduledAfter=2026-03-20T00:00:00%2B01:00&scheduledBefore=2026-03-21T00:00:00Z"},
		{name: "list appointments updated after", request: "GET /v1/appointments?updatedAfter=2026-03-12T00:00:00Z"},
		{name: "list appointments with both filter kinds",
			request: "GET /v1/appointments?updatedAfter=2026-03-12T00:00:00Z&scheduledAfter=2026-03-12T00:00:00Z",
			local:   true},
		{name: "get an appointment", request: "GET /v1/appointments/{{a1}}"},
		{name: "get an unknown appointment", request: "GET /v1/appointments/nope"},
		{name: "update an appointment", request: "PATCH /v1/appointments/{{a1}}",
			body: `{"notes":"Bring a ladder","durationMinutes":20,"metadata":{"odoo_ticket_id":"12345","step":2}}`},
		{name: "update an appointment with nothing", request: "PATCH /v1/appointments/{{a1}}", body: `{}`},
		{name: "move an appointment onto another", request: "PATCH /v1/appointments/{{a2}}",
			body: `{"scheduledAt":"2026-03-20T14:40:00Z"}`},
		{name: "update an unknown appointment", request: "PATCH /v1/appointments/nope", body: `{"notes":"x"}`},
		{name: "list available slots", request: "GET /v1/appointments/available-slots?agentId={{agent}}&date=2026-03-20"},
		{name: "list available slots of 10 minutes",
			request: "GET /v1/appointments/available-slots?agentId={{agent}}&date=2026-03-20&durationMinutes=10"},
		{name: "list available slots without a date",
			request: "GET /v1/appointments/available-slots?agentId={{agent}}", local: true},
		{name: "list available slots of a stranger",
			request: "GET /v1/appointments/available-slots?agentId=nobody&date=2026-03-20"},
		{name: "cancel an appointment", request: "POST /v1/appointments/{{a2}}/cancel",
			body: `{"reason":"Client requested reschedule"}`},
		{name: "cancel a cancelled appointment", request: "POST /v1/appointments/{{a2}}/cancel"},
		{name: "cancel an appointment without a body", request: "POST /v1/appointments/{{a1}}/cancel"},
		{name: "cancel an unknown appointment", request: "POST /v1/appointments/nope/cancel", body: `{}`},
	}
}

// errorSteps covers authentication, routing and rate limits.
func errorSteps() []conformanceStep {
	return []conformanceStep{
		{name: "request without a key", request: "GET /v1/credits", key: "none", local: true},
		{name: "request with a basic header", request: "GET /v1/credits", key: "Basic Zm9vOmJhcg==", local: true},
		{name: "request with an unknown key", request: "GET /v1/credits", key: "gc_live_unknown"},
		{name: "request with a revoked key", request: "GET /v1/organization", key: "revoked"},
		{name: "request of a deleted organization", request: "GET /v1/agents", key: "orphan"},
		{name: "unknown path", request: "GET /v1/nowhere", local: true},
		{name: "unknown nested path", request: "GET /v1/sessions/abc/nowhere", local: true},
		{name: "path with a trailing slash", request: "GET /v1/sessions/", local: true},
		{name: "wrong method", request: "DELETE /v1/sessions", local: true},
		{name: "wrong method on an item", request: "PUT /v1/appointments/abc", local: true},
		{name: "wrong method on a literal path", request: "POST /v1/appointments/available-slots", local: true},
		{name: "lower the rate limit", control: "PATCH /_sim/config", body: `{"rateLimit":{"limit":2}}`},
		{name: "rate limit 1 of 2", request: "GET /v1/credits"},
		{name: "rate limit 2 of 2", request: "GET /v1/tags"},
		{name: "rate limited", request: "GET /v1/organization"},
		{name: "rate limited create", request: "POST /v1/sessions",
			body: `{"agentId":"{{agent}}","clientPhone":"+33612345678"}`},
		{name: "restore the rate limit", control: "PATCH /_sim/config", body: `{"rateLimit":{"limit":600}}`},
		{name: "credits at the end", request: "GET /v1/credits"},
		{name: "stats at the end", request: "GET /v1/stats"},
	}
}

// keyPrecedenceSteps covers requests with both a missing or malformed key
// and an error that the REST face finds while it reads or routes them. The
// upstream checks the key and the rate limit first, then routes the
// request, then finds the key's organization, and reads the request last.
func keyPrecedenceSteps() []conformanceStep {
	const malformed = `{"agentId":`
	return []conformanceStep{
		{name: "create with malformed JSON and no key", request: "POST /v1/sessions", body: malformed,
			key: "none", local: true},
		{name: "create with malformed JSON and a basic header", request: "POST /v1/sessions", body: malformed,
			key: "Basic Zm9vOmJhcg==", local: true},
		{name: "list sessions with a bad limit and no key", request: "GET /v1/sessions?limit=abc",
			key: "none", local: true},
		{name: "unknown path without a key", request: "GET /v1/nowhere", key: "none", local: true},
		{name: "wrong method without a key", request: "DELETE /v1/sessions", key: "none", local: true},
		// The gateway verifies the key, and the organization's 404 does not
		// replace the routing error.
		{name: "unknown path of a deleted organization", request: "GET /v1/nowhere", key: "orphan",
			local: true},
		{name: "create with malformed JSON and an unknown key", request: "POST /v1/sessions", body: malformed,
			key: "gc_live_unknown", keyError: true},
		{name: "create with malformed JSON and a revoked key", request: "POST /v1/sessions", body: malformed,
			key: "revoked", keyError: true},
		{name: "create with malformed JSON and a deleted organization", request: "POST /v1/sessions",
			body: malformed, key: "orphan", keyError: true},
		{name: "unknown path with an unknown key", request: "GET /v1/nowhere", key: "gc_live_unknown",
			keyError: true},
	}
}

// conformanceMetadataKeys returns a JSON metadata object with n keys.
func conformanceMetadataKeys(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"k%d":"v"`, i)
	}
	return "{" + strings.Join(parts, ",") + "}"
}
