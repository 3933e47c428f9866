package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/groundcam/groundcam-gateway/adapters/cache"
)

// invalidationFixture contains the ids of the objects that the
// invalidation tests change. They are created on the simulator directly,
// before any call through the gateway.
type invalidationFixture struct {
	agent       string
	session     string // a completed session
	active      string // an active session
	appointment string
	webhook     string
	// newHookURL is a webhook URL that no endpoint uses yet.
	newHookURL string
}

func newInvalidationFixture(t *testing.T, up *cacheUpstream) invalidationFixture {
	t.Helper()
	key := up.acme.Key
	f := invalidationFixture{
		agent:      up.agentID(t, key),
		session:    up.sessionID(t, key, "completed"),
		active:     up.sessionID(t, key, "active"),
		newHookURL: up.hookURL + "/new",
	}
	appointment := callCreateAppointment(f.agent, 9)
	f.appointment = dataID(t, up.send(t, key, http.MethodPost, appointment.path, appointment.body))
	hook := fmt.Sprintf(`{"url": %q, "events": ["appointment.created"]}`, up.hookURL)
	f.webhook = dataID(t, up.send(t, key, http.MethodPost, "/v1/webhooks", hook))
	return f
}

// dataID returns the "id" of a response's data.
func dataID(t *testing.T, data map[string]any) string {
	t.Helper()
	id, _ := data["id"].(string)
	if id == "" {
		t.Fatalf("response data has no id: %v", data)
	}
	return id
}

// invalidationCase is a write and the cached reads it must drop and keep
// for the writer's tenant.
type invalidationCase struct {
	name  string
	write func(f invalidationFixture) cacheCall
	// dropped are the reads that miss after the write.
	dropped func(f invalidationFixture) []cacheCall
	// kept are the reads that still hit after the write.
	kept func(f invalidationFixture) []cacheCall
	// contains, when set, is text that the first dropped read returns after
	// the write, and lacks is text it no longer returns. Both are compared
	// without regard to case, because the faces spell enums differently.
	contains, lacks func(f invalidationFixture) string
}

func invalidationCases() []invalidationCase {
	none := func(invalidationFixture) []cacheCall { return nil }
	return []invalidationCase{
		{
			name:  "CreateSession",
			write: func(f invalidationFixture) cacheCall { return callCreateSession(f.agent) },
			dropped: func(invalidationFixture) []cacheCall {
				return []cacheCall{
					callListSessions(), callGetCredits(), callGetOrganization(), callListTags(),
					callVerifyAPIKey(), callGetStats(),
				}
			},
			kept: func(invalidationFixture) []cacheCall {
				return []cacheCall{callListAgents(), callListClosureTypes(), callListWebhooks(), callListAppointments()}
			},
			contains: func(invalidationFixture) string { return testClientName },
		},
		{
			name:  "UpdateSession",
			write: func(f invalidationFixture) cacheCall { return callUpdateSessionNotes(f.session, "called back") },
			dropped: func(f invalidationFixture) []cacheCall {
				return []cacheCall{callGetSession(f.session), callListSessions(), callListTags()}
			},
			kept: func(invalidationFixture) []cacheCall {
				return []cacheCall{callGetCredits(), callGetOrganization(), callListAppointments()}
			},
			contains: func(invalidationFixture) string { return "called back" },
		},
		{
			name:  "EndSession",
			write: func(f invalidationFixture) cacheCall { return callEndSession(f.active) },
			dropped: func(f invalidationFixture) []cacheCall {
				return []cacheCall{callGetSession(f.active), callListSessions()}
			},
			kept: func(invalidationFixture) []cacheCall {
				return []cacheCall{callGetCredits(), callGetOrganization(), callListWebhooks()}
			},
			contains: func(invalidationFixture) string { return "completed" },
		},
		{
			name:  "CreateAppointment",
			write: func(f invalidationFixture) cacheCall { return callCreateAppointment(f.agent, 11) },
			dropped: func(f invalidationFixture) []cacheCall {
				return []cacheCall{callListAppointments(), callGetAvailableSlots(f.agent), callListSessions()}
			},
			kept: func(invalidationFixture) []cacheCall {
				return []cacheCall{callGetCredits(), callListWebhooks(), callListAgents()}
			},
			contains: func(invalidationFixture) string { return testClientName },
		},
		{
			name: "UpdateAppointment",
			write: func(f invalidationFixture) cacheCall {
				return callUpdateAppointmentNotes(f.appointment, "bring the invoice")
			},
			dropped: func(f invalidationFixture) []cacheCall {
				return []cacheCall{callGetAppointment(f.appointment), callListAppointments()}
			},
			kept:     func(invalidationFixture) []cacheCall { return []cacheCall{callGetCredits(), callListWebhooks()} },
			contains: func(invalidationFixture) string { return "bring the invoice" },
		},
		{
			name:  "CancelAppointment",
			write: func(f invalidationFixture) cacheCall { return callCancelAppointment(f.appointment) },
			dropped: func(f invalidationFixture) []cacheCall {
				return []cacheCall{callGetAppointment(f.appointment), callListAppointments(), callGetAvailableSlots(f.agent)}
			},
			kept:     func(invalidationFixture) []cacheCall { return []cacheCall{callGetCredits(), callListWebhooks()} },
			contains: func(invalidationFixture) string { return "cancelled" },
		},
		{
			name:     "CreateWebhook",
			write:    func(f invalidationFixture) cacheCall { return callCreateWebhook(f.newHookURL) },
			dropped:  func(invalidationFixture) []cacheCall { return []cacheCall{callListWebhooks()} },
			kept:     func(invalidationFixture) []cacheCall { return []cacheCall{callListSessions(), callGetCredits()} },
			contains: func(f invalidationFixture) string { return f.newHookURL },
		},
		{
			name:  "UpdateWebhook",
			write: func(f invalidationFixture) cacheCall { return callDeactivateWebhook(f.webhook) },
			dropped: func(f invalidationFixture) []cacheCall {
				return []cacheCall{callListWebhooks(), callListWebhookDeliveries(f.webhook)}
			},
			kept: func(invalidationFixture) []cacheCall { return []cacheCall{callListSessions()} },
		},
		{
			name:    "DeleteWebhook",
			write:   func(f invalidationFixture) cacheCall { return callDeleteWebhook(f.webhook) },
			dropped: func(invalidationFixture) []cacheCall { return []cacheCall{callListWebhooks()} },
			kept:    none,
			lacks:   func(f invalidationFixture) string { return f.webhook },
		},
		{
			name:  "TestWebhook",
			write: func(f invalidationFixture) cacheCall { return callTestWebhook(f.webhook) },
			dropped: func(f invalidationFixture) []cacheCall {
				return []cacheCall{callListWebhookDeliveries(f.webhook), callListWebhooks()}
			},
			kept:     func(invalidationFixture) []cacheCall { return []cacheCall{callGetOrganization()} },
			contains: func(invalidationFixture) string { return "This is a test event" },
		},
	}
}

// otherTenantReads are the reads of the second organization that no write
// of the first may drop.
func otherTenantReads() []cacheCall {
	return []cacheCall{
		callListSessions(), callGetCredits(), callGetOrganization(), callListTags(),
		callListAppointments(), callListWebhooks(), callVerifyAPIKey(),
	}
}

func TestCacheWritesInvalidateTenantReads(t *testing.T) {
	t.Parallel()
	for _, face := range cacheFaces {
		for _, tc := range invalidationCases() {
			t.Run(string(face)+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				up := startCacheUpstream(t, nil)
				f := newInvalidationFixture(t, up)
				g := newCacheGateway(t, up, cacheGatewayConfig{})
				acme, bistro := up.acme.Key, up.bistro.Key
				dropped, kept, others := tc.dropped(f), tc.kept(f), otherTenantReads()

				warm := func(key string, calls []cacheCall) {
					for _, call := range calls {
						g.read(t, face, call, key, cache.StatusMiss)
					}
				}
				warm(acme, append(append([]cacheCall{}, dropped...), kept...))
				warm(bistro, others)

				g.write(t, face, tc.write(f), acme)

				for i, call := range dropped {
					before := up.calls(call.route)
					reply := g.read(t, face, call, acme, cache.StatusMiss)
					if got := up.calls(call.route); got != before+1 {
						t.Errorf("%s after %s did not reach the upstream", call.name, tc.name)
					}
					if i == 0 {
						checkFresh(t, tc, f, call, reply)
					}
				}
				expectHits(t, g, up, face, acme, kept)
				expectHits(t, g, up, face, bistro, others)
			})
		}
	}
}

// checkFresh checks the text that the first dropped read must and must not
// contain after the write.
func checkFresh(t *testing.T, tc invalidationCase, f invalidationFixture, call cacheCall, reply cacheReply) {
	t.Helper()
	body := strings.ToLower(reply.body)
	if tc.contains != nil && !strings.Contains(body, strings.ToLower(tc.contains(f))) {
		t.Errorf("%s after %s lacks %q: %s", call.name, tc.name, tc.contains(f), reply.body)
	}
	if tc.lacks != nil && strings.Contains(body, strings.ToLower(tc.lacks(f))) {
		t.Errorf("%s after %s still contains %q: %s", call.name, tc.name, tc.lacks(f), reply.body)
	}
}

// expectHits reads each call with key and fails the test unless it is a hit
// that does not reach the upstream.
func expectHits(t *testing.T, g *cacheGateway, up *cacheUpstream, face cacheFace, key string, calls []cacheCall) {
	t.Helper()
	for _, call := range calls {
		before := up.calls(call.route)
		g.read(t, face, call, key, cache.StatusHit)
		if got := up.calls(call.route); got != before {
			t.Errorf("%s reached the upstream, want a hit", call.name)
		}
	}
}

func TestCacheFailedWriteInvalidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		// dropped is whether the write's outcome is unknown, so the reads it
		// would change must miss.
		dropped bool
	}{
		{"unavailable", http.StatusServiceUnavailable, true},
		{"gateway timeout", http.StatusGatewayTimeout, true},
		{"conflict", http.StatusConflict, false},
		{"bad request", http.StatusBadRequest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			up := startCacheUpstream(t, nil)
			agent := up.agentID(t, up.acme.Key)
			g := newCacheGateway(t, up, cacheGatewayConfig{})
			read := callListSessions()
			g.read(t, faceConnect, read, up.acme.Key, cache.StatusMiss)

			up.failMethod(t, http.MethodPost, "/v1/sessions", tt.status)
			if reply := g.do(t, faceConnect, callCreateSession(agent), up.acme.Key, nil); !reply.failed() {
				t.Fatalf("CreateSession during the injected %d succeeded", tt.status)
			}

			want := cache.StatusHit
			if tt.dropped {
				want = cache.StatusMiss
			}
			g.read(t, faceConnect, read, up.acme.Key, want)
		})
	}
}
