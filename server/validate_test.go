package server

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// validationCase is one request and the outcome validation must give.
type validationCase struct {
	name string
	msg  proto.Message
	// reason and message are the expected ErrorInfo; "" expects the
	// request to pass (or to be left to the upstream).
	reason, message string
	// fields are the expected BadRequest field paths, in order.
	fields []string
}

// runValidationCases checks each case against validateRequest.
func runValidationCases(t *testing.T, cases []validationCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := validateRequest(tc.msg)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("validateRequest() = %v, want nil", err)
				}
				return
			}
			checkValidationError(t, err, tc.reason, tc.message, tc.fields)
		})
	}
}

// checkValidationError checks the code, ErrorInfo and BadRequest of err.
func checkValidationError(t *testing.T, err error, reason, message string, fields []string) {
	t.Helper()
	var cerr *connect.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("validateRequest() = %v, want a *connect.Error", err)
	}
	if cerr.Code() != connect.CodeInvalidArgument {
		t.Errorf("code = %v, want invalid_argument", cerr.Code())
	}

	info, ok := upstream.ErrorInfoOf(err)
	if !ok {
		t.Fatal("error has no ErrorInfo detail")
	}
	if info.GetReason() != reason {
		t.Errorf("ErrorInfo reason = %q, want %q", info.GetReason(), reason)
	}
	if cerr.Message() != message {
		t.Errorf("message = %q\nwant      %q", cerr.Message(), message)
	}
	if got := info.GetMetadata()[upstream.MetaHTTPStatus]; got != "400" {
		t.Errorf("ErrorInfo http_status = %q, want 400", got)
	}

	bad := badRequestOf(t, cerr)
	var got []string
	for _, v := range bad.GetFieldViolations() {
		got = append(got, v.GetField())
		if v.GetDescription() == "" {
			t.Errorf("field %s has an empty description", v.GetField())
		}
	}
	if strings.Join(got, " ") != strings.Join(fields, " ") {
		t.Errorf("BadRequest fields = %q, want %q", got, fields)
	}
}

// badRequestOf returns the BadRequest detail of err.
func badRequestOf(t *testing.T, err *connect.Error) *errdetails.BadRequest {
	t.Helper()
	for _, d := range err.Details() {
		v, valueErr := d.Value()
		if valueErr != nil {
			t.Fatalf("decode detail: %v", valueErr)
		}
		if bad, ok := v.(*errdetails.BadRequest); ok {
			return bad
		}
	}
	t.Fatal("error has no BadRequest detail")
	return nil
}

// metadataOf builds a Metadata message from plain Go values; nil gives a
// value with no kind set.
func metadataOf(values map[string]any) *groundcamv1.Metadata {
	m := &groundcamv1.Metadata{Fields: map[string]*groundcamv1.MetadataValue{}}
	for key, v := range values {
		value := &groundcamv1.MetadataValue{}
		switch v := v.(type) {
		case string:
			value.Kind = &groundcamv1.MetadataValue_StringValue{StringValue: v}
		case float64:
			value.Kind = &groundcamv1.MetadataValue_NumberValue{NumberValue: v}
		case bool:
			value.Kind = &groundcamv1.MetadataValue_BoolValue{BoolValue: v}
		}
		m.Fields[key] = value
	}
	return m
}

// manyKeys returns metadata with n string values.
func manyKeys(n int) *groundcamv1.Metadata {
	values := map[string]any{}
	for i := range n {
		values["key"+strconv.Itoa(i)] = "v"
	}
	return metadataOf(values)
}

// sizedMetadata returns one key "k" whose JSON, {"k":"..."}, is size bytes.
func sizedMetadata(size int) *groundcamv1.Metadata {
	return metadataOf(map[string]any{"k": strings.Repeat("a", size-len(`{"k":""}`))})
}

func TestValidatePathID(t *testing.T) {
	t.Parallel()
	runValidationCases(t, []validationCase{
		{name: "get session with id", msg: &groundcamv1.GetSessionRequest{Id: "abc"}},
		{
			name: "get session without id", msg: &groundcamv1.GetSessionRequest{},
			reason: "MISSING_FIELD", message: "id is required", fields: []string{"id"},
		},
		{
			name: "delete webhook without id", msg: &groundcamv1.DeleteWebhookRequest{},
			reason: "MISSING_FIELD", message: "id is required", fields: []string{"id"},
		},
		{
			name: "cancel appointment without id", msg: &groundcamv1.CancelAppointmentRequest{},
			reason: "MISSING_FIELD", message: "id is required", fields: []string{"id"},
		},
		{name: "list agents has no id", msg: &groundcamv1.ListAgentsRequest{}},
	})
}

func TestValidateCreateSession(t *testing.T) {
	t.Parallel()
	valid := func(change func(*groundcamv1.CreateSessionRequest)) *groundcamv1.CreateSessionRequest {
		m := &groundcamv1.CreateSessionRequest{ClientPhone: proto.String("+33612345678"), AgentId: "agent1"}
		change(m)
		return m
	}
	runValidationCases(t, []validationCase{
		{name: "camera with phone", msg: valid(func(*groundcamv1.CreateSessionRequest) {})},
		{name: "phone with spaces", msg: valid(func(m *groundcamv1.CreateSessionRequest) {
			m.ClientPhone = proto.String("+33 6 12 34 56 78")
		})},
		{name: "screen without phone", msg: valid(func(m *groundcamv1.CreateSessionRequest) {
			m.ClientPhone = nil
			m.Mode = groundcamv1.SessionMode_SESSION_MODE_SCREEN
		})},
		{
			name:   "camera without phone",
			msg:    valid(func(m *groundcamv1.CreateSessionRequest) { m.ClientPhone = nil }),
			reason: "MISSING_FIELD", message: "clientPhone is required", fields: []string{"client_phone"},
		},
		{
			name:   "national phone",
			msg:    valid(func(m *groundcamv1.CreateSessionRequest) { m.ClientPhone = proto.String("0612345678") }),
			reason: "INVALID_PHONE", message: invalidPhoneMessage, fields: []string{"client_phone"},
		},
		{
			name: "empty phone in screen mode",
			msg: valid(func(m *groundcamv1.CreateSessionRequest) {
				m.ClientPhone = proto.String("")
				m.Mode = groundcamv1.SessionMode_SESSION_MODE_SCREEN
			}),
			reason: "INVALID_PHONE", message: invalidPhoneMessage, fields: []string{"client_phone"},
		},
		{
			name: "phone with 16 digits",
			msg: valid(func(m *groundcamv1.CreateSessionRequest) {
				m.ClientPhone = proto.String("+1234567890123456")
			}),
			reason: "INVALID_PHONE", message: invalidPhoneMessage, fields: []string{"client_phone"},
		},
		{
			name:   "missing agent",
			msg:    valid(func(m *groundcamv1.CreateSessionRequest) { m.AgentId = "" }),
			reason: "MISSING_FIELD", message: "agentId is required", fields: []string{"agent_id"},
		},
		{name: "ttl 5", msg: valid(func(m *groundcamv1.CreateSessionRequest) { m.TtlMinutes = proto.Int32(5) })},
		{
			name:   "ttl 7",
			msg:    valid(func(m *groundcamv1.CreateSessionRequest) { m.TtlMinutes = proto.Int32(7) }),
			reason: "INVALID_FIELD", message: "ttlMinutes must be one of: 5, 10, 15, 20",
			fields: []string{"ttl_minutes"},
		},
		{
			name: "every field wrong, upstream order",
			msg: valid(func(m *groundcamv1.CreateSessionRequest) {
				m.ClientPhone = proto.String("12")
				m.AgentId = ""
				m.TtlMinutes = proto.Int32(0)
				m.Metadata = manyKeys(21)
			}),
			reason: "INVALID_PHONE", message: invalidPhoneMessage,
			fields: []string{"client_phone", "agent_id", "ttl_minutes", "metadata"},
		},
		{
			name: "invalid email before ttl is left to the upstream",
			msg: valid(func(m *groundcamv1.CreateSessionRequest) {
				m.ClientEmail = proto.String("not an email")
				m.TtlMinutes = proto.Int32(7)
			}),
		},
		{
			name: "invalid email after a bad phone",
			msg: valid(func(m *groundcamv1.CreateSessionRequest) {
				m.ClientPhone = proto.String("12")
				m.ClientEmail = proto.String("not an email")
			}),
			reason: "INVALID_PHONE", message: invalidPhoneMessage, fields: []string{"client_phone"},
		},
		{
			name: "valid email and bad ttl",
			msg: valid(func(m *groundcamv1.CreateSessionRequest) {
				m.ClientEmail = proto.String("jean.dupont@email.com")
				m.TtlMinutes = proto.Int32(30)
			}),
			reason: "INVALID_FIELD", message: "ttlMinutes must be one of: 5, 10, 15, 20",
			fields: []string{"ttl_minutes"},
		},
		{
			name:   "unknown language number",
			msg:    valid(func(m *groundcamv1.CreateSessionRequest) { m.Language = 99 }),
			reason: "INVALID_FIELD", message: "language must be one of: fr, en, es, de, it, pt, nl, pl, ru, zh",
			fields: []string{"language"},
		},
	})
}

func TestValidateMetadata(t *testing.T) {
	t.Parallel()
	withMeta := func(meta *groundcamv1.Metadata) *groundcamv1.CreateSessionRequest {
		return &groundcamv1.CreateSessionRequest{
			ClientPhone: proto.String("+33612345678"), AgentId: "agent1", Metadata: meta,
		}
	}
	runValidationCases(t, []validationCase{
		{name: "empty object", msg: withMeta(metadataOf(nil))},
		{name: "20 keys", msg: withMeta(manyKeys(20))},
		{
			name: "21 keys", msg: withMeta(manyKeys(21)),
			reason: "INVALID_METADATA", message: "metadata has 21 keys; at most 20 are allowed",
			fields: []string{"metadata"},
		},
		{name: "4095 bytes", msg: withMeta(sizedMetadata(4095))},
		{
			name: "4096 bytes", msg: withMeta(sizedMetadata(4096)),
			reason: "INVALID_METADATA", message: "metadata is 4096 bytes serialized; it must be less than 4096 bytes (4 KB)",
			fields: []string{"metadata"},
		},
		{
			// encoding/json writes < as \u003c, six bytes, as the upstream measures.
			name:   "escaped characters count as the upstream writes them",
			msg:    withMeta(metadataOf(map[string]any{"k": strings.Repeat("<", 682)})),
			reason: "INVALID_METADATA", message: "metadata is 4100 bytes serialized; it must be less than 4096 bytes (4 KB)",
			fields: []string{"metadata"},
		},
		{name: "numbers and booleans", msg: withMeta(metadataOf(map[string]any{"n": 12345.0, "b": true, "s": "x"}))},
		{
			name: "value without kind", msg: withMeta(metadataOf(map[string]any{"dept": nil})),
			reason: "INVALID_METADATA",
			message: "metadata.dept must be a string, number or boolean, got null; " +
				"nested objects, arrays and null are not allowed",
			fields: []string{`metadata["dept"]`},
		},
		{name: "empty key is left to the upstream", msg: withMeta(metadataOf(map[string]any{"": "x"}))},
		{
			name: "too many keys before an empty key",
			msg: withMeta(func() *groundcamv1.Metadata {
				m := manyKeys(21)
				m.Fields[""] = &groundcamv1.MetadataValue{Kind: &groundcamv1.MetadataValue_BoolValue{}}
				return m
			}()),
			reason: "INVALID_METADATA", message: "metadata has 22 keys; at most 20 are allowed",
			fields: []string{"metadata"},
		},
		{
			name: "infinite number", msg: withMeta(metadataOf(map[string]any{"n": math.Inf(1)})),
			reason: "INVALID_FIELD", message: `metadata["n"] must be a finite number, got +Inf`,
			fields: []string{`metadata["n"]`},
		},
	})
}

func TestValidateCreateSessionsBulk(t *testing.T) {
	t.Parallel()
	bulk := func(n int) *groundcamv1.CreateSessionsBulkRequest {
		m := &groundcamv1.CreateSessionsBulkRequest{}
		for range n {
			// Item fields are the upstream's to check, so a bad phone passes.
			m.Sessions = append(m.Sessions, &groundcamv1.BulkSessionInput{ClientPhone: "bad", AgentId: "a"})
		}
		return m
	}
	runValidationCases(t, []validationCase{
		{
			name: "no items", msg: bulk(0),
			reason: "INVALID_FIELD", message: "sessions must contain at least 1 item", fields: []string{"sessions"},
		},
		{name: "one item", msg: bulk(1)},
		{name: "ten items", msg: bulk(10)},
		{
			name: "eleven items", msg: bulk(11),
			reason: "TOO_MANY_SESSIONS", message: "sessions contains 11 items; send at most 10 per request",
			fields: []string{"sessions"},
		},
		{
			name: "item enum without wire value",
			msg: &groundcamv1.CreateSessionsBulkRequest{Sessions: []*groundcamv1.BulkSessionInput{
				{ClientPhone: "+33612345678", AgentId: "a"},
				{ClientPhone: "+33612345678", AgentId: "a", Language: 42},
			}},
			reason: "INVALID_FIELD", message: "sessions[1].language must be one of: fr, en, es, de, it, pt, nl, pl, ru, zh",
			fields: []string{"sessions[1].language"},
		},
	})
}

func TestValidateListSessions(t *testing.T) {
	t.Parallel()
	at := timestamppb.New(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	runValidationCases(t, []validationCase{
		{name: "no filter", msg: &groundcamv1.ListSessionsRequest{}},
		{name: "limit 1", msg: &groundcamv1.ListSessionsRequest{Limit: proto.Int32(1)}},
		{name: "limit 100", msg: &groundcamv1.ListSessionsRequest{Limit: proto.Int32(100)}},
		{
			name: "limit 0", msg: &groundcamv1.ListSessionsRequest{Limit: proto.Int32(0)},
			reason: "INVALID_FIELD", message: `limit must be an integer between 1 and 100, got "0"`,
			fields: []string{"limit"},
		},
		{
			name: "limit 101", msg: &groundcamv1.ListSessionsRequest{Limit: proto.Int32(101)},
			reason: "INVALID_FIELD", message: `limit must be an integer between 1 and 100, got "101"`,
			fields: []string{"limit"},
		},
		{name: "updated after alone", msg: &groundcamv1.ListSessionsRequest{UpdatedAfter: at}},
		{name: "created range", msg: &groundcamv1.ListSessionsRequest{CreatedAfter: at, CreatedBefore: at}},
		{
			name:    "updated after with created before",
			msg:     &groundcamv1.ListSessionsRequest{UpdatedAfter: at, CreatedBefore: at},
			reason:  "INVALID_FILTER_COMBINATION",
			message: "updatedAfter cannot be combined with createdAfter or createdBefore; send one or the other",
			fields:  []string{"updated_after"},
		},
		{
			name: "empty metadata key before the combination is left to the upstream",
			msg: &groundcamv1.ListSessionsRequest{
				UpdatedAfter: at, CreatedAfter: at, Metadata: map[string]string{"": "x"},
			},
		},
		{
			name:   "bad limit before an empty metadata key",
			msg:    &groundcamv1.ListSessionsRequest{Limit: proto.Int32(-1), Metadata: map[string]string{"": "x"}},
			reason: "INVALID_FIELD", message: `limit must be an integer between 1 and 100, got "-1"`,
			fields: []string{"limit"},
		},
		{
			name:   "timestamp out of range",
			msg:    &groundcamv1.ListSessionsRequest{CreatedAfter: &timestamppb.Timestamp{Seconds: -1e12}},
			reason: "INVALID_FIELD", message: "createdAfter must be a timestamp between years 0001 and 9999",
			fields: []string{"created_after"},
		},
	})
}

func TestValidateSessionChanges(t *testing.T) {
	t.Parallel()
	runValidationCases(t, []validationCase{
		{
			name: "update without fields", msg: &groundcamv1.UpdateSessionRequest{Id: "s1"},
			reason: "MISSING_FIELD", message: "At least one field is required: notes, sessionTags, closureTypeName",
			fields: []string{"notes"},
		},
		{name: "update clearing notes", msg: &groundcamv1.UpdateSessionRequest{Id: "s1", Notes: &groundcamv1.NullableString{}}},
		{name: "update clearing tags", msg: &groundcamv1.UpdateSessionRequest{Id: "s1", SessionTags: &groundcamv1.StringList{}}},
		{
			name: "update without id or fields", msg: &groundcamv1.UpdateSessionRequest{},
			reason: "MISSING_FIELD", message: "id is required", fields: []string{"id", "notes"},
		},
		{name: "url_ttl 60", msg: &groundcamv1.GetSessionScreenshotsRequest{Id: "s1", UrlTtl: proto.Int32(60)}},
		{name: "url_ttl 86400", msg: &groundcamv1.GetSessionScreenshotsRequest{Id: "s1", UrlTtl: proto.Int32(86400)}},
		{
			name: "url_ttl 59", msg: &groundcamv1.GetSessionScreenshotsRequest{Id: "s1", UrlTtl: proto.Int32(59)},
			reason: "INVALID_FIELD", message: `url_ttl must be an integer between 60 and 86400 seconds, got "59"`,
			fields: []string{"url_ttl"},
		},
		{
			name: "url_ttl 86401", msg: &groundcamv1.GetSessionScreenshotsRequest{Id: "s1", UrlTtl: proto.Int32(86401)},
			reason: "INVALID_FIELD", message: `url_ttl must be an integer between 60 and 86400 seconds, got "86401"`,
			fields: []string{"url_ttl"},
		},
		{
			name:   "end with infinite duration",
			msg:    &groundcamv1.EndSessionRequest{Id: "s1", AgentDuration: proto.Float64(math.Inf(-1))},
			reason: "INVALID_FIELD", message: "agentDuration must be a finite number, got -Inf",
			fields: []string{"agent_duration"},
		},
		{name: "end with negative duration is left to the upstream",
			msg: &groundcamv1.EndSessionRequest{Id: "s1", AgentDuration: proto.Float64(-1)}},
	})
}

func TestValidateWebhooks(t *testing.T) {
	t.Parallel()
	created := []groundcamv1.WebhookEventType{groundcamv1.WebhookEventType_WEBHOOK_EVENT_TYPE_SESSION_CREATED}
	test := groundcamv1.WebhookEventType_WEBHOOK_EVENT_TYPE_WEBHOOK_TEST
	runValidationCases(t, []validationCase{
		{name: "create https", msg: &groundcamv1.CreateWebhookRequest{Url: "https://crm.example/hook", Events: created}},
		{
			name: "create http", msg: &groundcamv1.CreateWebhookRequest{Url: "http://crm.example/hook", Events: created},
			reason: "INVALID_URL", message: "URL must use HTTPS", fields: []string{"url"},
		},
		{
			name: "create empty url", msg: &groundcamv1.CreateWebhookRequest{Events: created},
			reason:  "INVALID_URL",
			message: `url "" is not a valid absolute URL; use a form like https://example.com/webhooks`,
			fields:  []string{"url"},
		},
		{
			name: "create relative url", msg: &groundcamv1.CreateWebhookRequest{Url: "/hook", Events: created},
			reason:  "INVALID_URL",
			message: `url "/hook" is not a valid absolute URL; use a form like https://example.com/webhooks`,
			fields:  []string{"url"},
		},
		{
			name: "create without events", msg: &groundcamv1.CreateWebhookRequest{Url: "https://crm.example/hook"},
			reason: "INVALID_FIELD", message: "events must contain at least one event", fields: []string{"events"},
		},
		{
			name: "create with webhook.test",
			msg: &groundcamv1.CreateWebhookRequest{
				Url: "https://crm.example/hook", Events: append([]groundcamv1.WebhookEventType{}, created[0], test),
			},
			reason: "INVALID_EVENT", message: "Invalid event: webhook.test", fields: []string{"events[1]"},
		},
		{
			name: "create with unspecified event",
			msg: &groundcamv1.CreateWebhookRequest{
				Url: "https://crm.example/hook", Events: []groundcamv1.WebhookEventType{0},
			},
			reason: "INVALID_FIELD",
			message: "events[0] must be one of: session.created, session.client_waiting, session.active, " +
				"session.completed, session.rated, session.cancelled, session.expired, session.updated, " +
				"session.deleted, appointment.created, appointment.updated, appointment.cancelled, webhook.test",
			fields: []string{"events[0]"},
		},
		{
			name:   "create with every field wrong",
			msg:    &groundcamv1.CreateWebhookRequest{Url: "ftp://crm.example", Events: []groundcamv1.WebhookEventType{test}},
			reason: "INVALID_URL", message: "URL must use HTTPS", fields: []string{"url", "events[0]"},
		},
		{name: "update active only", msg: &groundcamv1.UpdateWebhookRequest{Id: "w1", Active: proto.Bool(false)}},
		{
			name: "update without fields", msg: &groundcamv1.UpdateWebhookRequest{Id: "w1"},
			reason: "MISSING_FIELD", message: "At least one field is required: url, events, active",
			fields: []string{"url"},
		},
		{
			name: "update with http url", msg: &groundcamv1.UpdateWebhookRequest{Id: "w1", Url: proto.String("http://x.example")},
			reason: "INVALID_URL", message: "URL must use HTTPS", fields: []string{"url"},
		},
		{
			name:   "update with empty events",
			msg:    &groundcamv1.UpdateWebhookRequest{Id: "w1", Events: &groundcamv1.WebhookEventTypeList{}},
			reason: "INVALID_FIELD", message: "events must contain at least one event", fields: []string{"events"},
		},
		{
			name: "update events with unspecified value",
			msg: &groundcamv1.UpdateWebhookRequest{Id: "w1", Events: &groundcamv1.WebhookEventTypeList{
				Values: []groundcamv1.WebhookEventType{created[0], 0},
			}},
			reason: "INVALID_FIELD",
			message: "events[1] must be one of: session.created, session.client_waiting, session.active, " +
				"session.completed, session.rated, session.cancelled, session.expired, session.updated, " +
				"session.deleted, appointment.created, appointment.updated, appointment.cancelled, webhook.test",
			fields: []string{"events[1]"},
		},
		{name: "deliveries limit 100", msg: &groundcamv1.ListWebhookDeliveriesRequest{Id: "w1", Limit: proto.Int32(100)}},
		{
			name: "deliveries limit 0", msg: &groundcamv1.ListWebhookDeliveriesRequest{Id: "w1", Limit: proto.Int32(0)},
			reason: "INVALID_FIELD", message: `limit must be an integer between 1 and 100, got "0"`,
			fields: []string{"limit"},
		},
		{
			name: "deliveries of webhook.test",
			msg:  &groundcamv1.ListWebhookDeliveriesRequest{Id: "w1", EventType: test},
		},
	})
}

func TestValidateCreateAppointment(t *testing.T) {
	t.Parallel()
	future := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Hour)
	valid := func(change func(*groundcamv1.CreateAppointmentRequest)) *groundcamv1.CreateAppointmentRequest {
		m := &groundcamv1.CreateAppointmentRequest{
			AgentId: "agent1", ClientPhone: proto.String("+33612345678"),
			ScheduledAt: timestamppb.New(future), DurationMinutes: 15,
		}
		change(m)
		return m
	}
	at := func(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }
	runValidationCases(t, []validationCase{
		{name: "camera appointment", msg: valid(func(*groundcamv1.CreateAppointmentRequest) {})},
		{
			name: "sub-millisecond digits are dropped on the wire",
			msg: valid(func(m *groundcamv1.CreateAppointmentRequest) {
				m.ScheduledAt = at(future.Add(999 * time.Microsecond))
			}),
		},
		{
			name:   "missing agent",
			msg:    valid(func(m *groundcamv1.CreateAppointmentRequest) { m.AgentId = "" }),
			reason: "MISSING_FIELD", message: "agentId is required", fields: []string{"agent_id"},
		},
		{
			name:   "missing time",
			msg:    valid(func(m *groundcamv1.CreateAppointmentRequest) { m.ScheduledAt = nil }),
			reason: "MISSING_FIELD", message: "scheduledAt is required", fields: []string{"scheduled_at"},
		},
		{
			name: "time off the grid",
			msg: valid(func(m *groundcamv1.CreateAppointmentRequest) {
				m.ScheduledAt = at(future.Add(3 * time.Minute))
			}),
			reason: "INVALID_TIME_SLOT",
			message: "scheduledAt must be aligned to a 5-minute slot (minutes 00, 05, ..., 55 and zero seconds), got " +
				future.Add(3*time.Minute).Format("2006-01-02T15:04:05.000Z"),
			fields: []string{"scheduled_at"},
		},
		{
			name: "time with seconds",
			msg: valid(func(m *groundcamv1.CreateAppointmentRequest) {
				m.ScheduledAt = at(future.Add(5*time.Minute + time.Second))
			}),
			reason: "INVALID_TIME_SLOT",
			message: "scheduledAt must be aligned to a 5-minute slot (minutes 00, 05, ..., 55 and zero seconds), got " +
				future.Add(5*time.Minute+time.Second).Format("2006-01-02T15:04:05.000Z"),
			fields: []string{"scheduled_at"},
		},
		{
			name: "past time off the grid is left to the upstream",
			msg: valid(func(m *groundcamv1.CreateAppointmentRequest) {
				m.ScheduledAt = at(time.Now().Add(-time.Hour).Truncate(time.Hour).Add(3 * time.Minute))
			}),
		},
		{
			name: "time within the clock skew is left to the upstream",
			msg: valid(func(m *groundcamv1.CreateAppointmentRequest) {
				m.ScheduledAt = at(time.Now().Add(10 * time.Second))
				m.DurationMinutes = 7
			}),
		},
		{
			name:   "duration 0",
			msg:    valid(func(m *groundcamv1.CreateAppointmentRequest) { m.DurationMinutes = 0 }),
			reason: "INVALID_FIELD", message: "durationMinutes must be one of: 5, 10, 15, 20",
			fields: []string{"duration_minutes"},
		},
		{
			name:   "invalid phone",
			msg:    valid(func(m *groundcamv1.CreateAppointmentRequest) { m.ClientPhone = proto.String("+0612") }),
			reason: "INVALID_PHONE", message: invalidPhoneMessage, fields: []string{"client_phone"},
		},
		{
			name:   "camera without phone",
			msg:    valid(func(m *groundcamv1.CreateAppointmentRequest) { m.ClientPhone = nil }),
			reason: "MISSING_FIELD", message: "clientPhone is required", fields: []string{"client_phone"},
		},
		{
			name: "screen with email and no phone",
			msg: valid(func(m *groundcamv1.CreateAppointmentRequest) {
				m.Mode = groundcamv1.SessionMode_SESSION_MODE_SCREEN
				m.ClientPhone = nil
				m.ClientEmail = proto.String("jean@email.example")
			}),
		},
		{
			name: "screen without email",
			msg: valid(func(m *groundcamv1.CreateAppointmentRequest) {
				m.Mode = groundcamv1.SessionMode_SESSION_MODE_SCREEN
				m.NotifyBy = groundcamv1.AppointmentNotifyBy_APPOINTMENT_NOTIFY_BY_BOTH
			}),
			reason: "MISSING_FIELD", message: "clientEmail is required when mode is screen",
			fields: []string{"client_email"},
		},
		{
			name: "notify by both without email",
			msg: valid(func(m *groundcamv1.CreateAppointmentRequest) {
				m.NotifyBy = groundcamv1.AppointmentNotifyBy_APPOINTMENT_NOTIFY_BY_BOTH
			}),
			reason: "MISSING_FIELD", message: `clientEmail is required when notifyBy is "both"`,
			fields: []string{"client_email"},
		},
		{
			name: "notify by email without email or phone",
			msg: valid(func(m *groundcamv1.CreateAppointmentRequest) {
				m.ClientPhone = nil
				m.NotifyBy = groundcamv1.AppointmentNotifyBy_APPOINTMENT_NOTIFY_BY_EMAIL
			}),
			reason: "MISSING_FIELD", message: "clientPhone is required",
			fields: []string{"client_phone", "client_email"},
		},
		{
			name:   "metadata with 21 keys",
			msg:    valid(func(m *groundcamv1.CreateAppointmentRequest) { m.Metadata = manyKeys(21) }),
			reason: "INVALID_METADATA", message: "metadata has 21 keys; at most 20 are allowed",
			fields: []string{"metadata"},
		},
		{
			name: "bad email before metadata is left to the upstream",
			msg: valid(func(m *groundcamv1.CreateAppointmentRequest) {
				m.ClientEmail = proto.String("@")
				m.Metadata = manyKeys(21)
			}),
		},
		{
			name: "every rule in upstream order",
			msg: &groundcamv1.CreateAppointmentRequest{
				ScheduledAt: at(future.Add(time.Minute)), ClientPhone: proto.String("1"), Metadata: manyKeys(30),
			},
			reason: "MISSING_FIELD", message: "agentId is required",
			fields: []string{"agent_id", "scheduled_at", "duration_minutes", "client_phone", "metadata"},
		},
	})
}

func TestValidateOtherAppointments(t *testing.T) {
	t.Parallel()
	future := time.Now().UTC().Add(72 * time.Hour).Truncate(time.Hour)
	at := timestamppb.New(future)
	runValidationCases(t, []validationCase{
		{name: "update notes only", msg: &groundcamv1.UpdateAppointmentRequest{Id: "a1", Notes: proto.String("x")}},
		{name: "update without fields is left to the upstream", msg: &groundcamv1.UpdateAppointmentRequest{Id: "a1"}},
		{
			name:   "update time off the grid",
			msg:    &groundcamv1.UpdateAppointmentRequest{Id: "a1", ScheduledAt: timestamppb.New(future.Add(time.Minute))},
			reason: "INVALID_TIME_SLOT",
			message: "scheduledAt must be aligned to a 5-minute slot (minutes 00, 05, ..., 55 and zero seconds), got " +
				future.Add(time.Minute).Format("2006-01-02T15:04:05.000Z"),
			fields: []string{"scheduled_at"},
		},
		{
			name:   "update duration 25",
			msg:    &groundcamv1.UpdateAppointmentRequest{Id: "a1", DurationMinutes: proto.Int32(25)},
			reason: "INVALID_FIELD", message: "durationMinutes must be one of: 5, 10, 15, 20",
			fields: []string{"duration_minutes"},
		},
		{
			name:   "update phone",
			msg:    &groundcamv1.UpdateAppointmentRequest{Id: "a1", ClientPhone: proto.String("+33 6")},
			reason: "INVALID_PHONE", message: invalidPhoneMessage, fields: []string{"client_phone"},
		},
		{
			name:   "update metadata too large",
			msg:    &groundcamv1.UpdateAppointmentRequest{Id: "a1", Metadata: sizedMetadata(5000)},
			reason: "INVALID_METADATA", message: "metadata is 5000 bytes serialized; it must be less than 4096 bytes (4 KB)",
			fields: []string{"metadata"},
		},
		{name: "list by schedule", msg: &groundcamv1.ListAppointmentsRequest{ScheduledAfter: at, ScheduledBefore: at}},
		{name: "list by update", msg: &groundcamv1.ListAppointmentsRequest{UpdatedAfter: at, UpdatedBefore: at}},
		{
			name:   "list mixing filters",
			msg:    &groundcamv1.ListAppointmentsRequest{UpdatedBefore: at, ScheduledAfter: at},
			reason: "INVALID_FILTER_COMBINATION",
			message: "updatedAfter/updatedBefore cannot be combined with scheduledAfter/scheduledBefore; " +
				"send one pair or the other",
			fields: []string{"updated_after"},
		},
		{
			name: "list limit 500", msg: &groundcamv1.ListAppointmentsRequest{Limit: proto.Int32(500)},
			reason: "INVALID_FIELD", message: `limit must be an integer between 1 and 100, got "500"`,
			fields: []string{"limit"},
		},
		{name: "slots", msg: &groundcamv1.GetAvailableAppointmentSlotsRequest{AgentId: "a", Date: "2026-03-20"}},
		{
			name: "slots with duration 20",
			msg:  &groundcamv1.GetAvailableAppointmentSlotsRequest{AgentId: "a", Date: "2026-03-20", DurationMinutes: proto.Int32(20)},
		},
		{
			name: "slots without agent", msg: &groundcamv1.GetAvailableAppointmentSlotsRequest{Date: "2026-03-20"},
			reason: "MISSING_FIELD", message: "agentId is required", fields: []string{"agent_id"},
		},
		{
			name: "slots without date", msg: &groundcamv1.GetAvailableAppointmentSlotsRequest{AgentId: "a"},
			reason: "MISSING_FIELD", message: "date is required", fields: []string{"date"},
		},
		{
			name: "slots with a bad date", msg: &groundcamv1.GetAvailableAppointmentSlotsRequest{AgentId: "a", Date: "20/03/2026"},
			reason: "INVALID_FIELD", message: `date must be a calendar date in YYYY-MM-DD form, got "20/03/2026"`,
			fields: []string{"date"},
		},
		{
			name: "slots on February 30", msg: &groundcamv1.GetAvailableAppointmentSlotsRequest{AgentId: "a", Date: "2026-02-30"},
			reason: "INVALID_FIELD", message: `date must be a calendar date in YYYY-MM-DD form, got "2026-02-30"`,
			fields: []string{"date"},
		},
		{
			name:   "slots with duration 30",
			msg:    &groundcamv1.GetAvailableAppointmentSlotsRequest{AgentId: "a", Date: "2026-03-20", DurationMinutes: proto.Int32(30)},
			reason: "INVALID_FIELD", message: "durationMinutes must be one of: 5, 10, 15, 20",
			fields: []string{"duration_minutes"},
		},
	})
}
