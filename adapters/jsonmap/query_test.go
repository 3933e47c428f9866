package jsonmap

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// queryCase is a message and its query string, which must encode and
// decode into each other.
type queryCase struct {
	name    string
	message func(t *testing.T) proto.Message
	query   string
}

func testQueryMessage(name, text string) func(t *testing.T) proto.Message {
	return func(t *testing.T) proto.Message { return parseTestMessage(t, name, text) }
}

func apiQueryMessage(m proto.Message) func(t *testing.T) proto.Message {
	return func(*testing.T) proto.Message { return m }
}

// TestQueryBothWays checks EncodeQuery against the expected parameters and
// DecodeQuery back to an equal message.
func TestQueryBothWays(t *testing.T) {
	t.Parallel()
	feb1 := timestamppb.New(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	cases := []queryCase{
		{"list sessions filters", apiQueryMessage(&groundcamv1.ListSessionsRequest{
			Status:       groundcamv1.SessionStatus_SESSION_STATUS_COMPLETED,
			AgentId:      proto.String("agent_xyz789"),
			CreatedAfter: feb1,
			Limit:        proto.Int32(20),
			StartAfter:   proto.String("session_def456"),
			Metadata:     map[string]string{"department": "support", "odoo_ticket_id": "12345"},
		}), "agentId=agent_xyz789&createdAfter=2026-02-01T00%3A00%3A00.000Z&limit=20" +
			"&metadata.department=support&metadata.odoo_ticket_id=12345" +
			"&startAfter=session_def456&status=completed"},
		{"empty request", apiQueryMessage(&groundcamv1.ListSessionsRequest{}), ""},
		{"optional false", apiQueryMessage(&groundcamv1.ListAgentsRequest{
			IncludeDisabled: proto.Bool(false),
		}), "includeDisabled=false"},
		{"optional empty string", apiQueryMessage(&groundcamv1.ListSessionsRequest{
			AgentId: proto.String(""),
		}), "agentId="},
		{"json_name", apiQueryMessage(&groundcamv1.GetSessionScreenshotsRequest{
			UrlTtl: proto.Int32(60),
		}), "url_ttl=60"},
		{"all integer kinds", testQueryMessage("Ints",
			`i32: -1 i64: -9223372036854775808 u32: 4294967295 u64: 18446744073709551615
			 s32: 5 s64: 6 f32: 7 f64: 8 sf32: -9 sf64: -10`),
			"f32=7&f64=8&i32=-1&i64=-9223372036854775808&s32=5&s64=6&sf32=-9&sf64=-10" +
				"&u32=4294967295&u64=18446744073709551615"},
		{"floats", testQueryMessage("Floats", `fl: 0.5 db: 1e21`), "db=1e%2B21&fl=0.5"},
		{"texts", testQueryMessage("Texts", `s: "a b&c" by: "\xff" b: true renamed: "r"`),
			"b=true&by=%2Fw%3D%3D&s=a+b%26c&url_ttl=r"},
		{"repeated enum", testQueryMessage("Enums",
			`color: COLOR_RED colors: [COLOR_DARK_BLUE, COLOR_RED] opt_color: COLOR_DARK_BLUE`),
			"color=red&colors=dark_blue&colors=red&optColor=dark_blue"},
		{"maps", testQueryMessage("Maps",
			`by_number {key: 5 value: "a"} by_flag {key: true value: 1}
			 color_by_name {key: "x.y" value: COLOR_RED} labels {key: "k" value: ""}
			 nodes {key: "n" value {name: "x"}}`),
			"byFlag.true=1&byNumber.5=a&colorByName.x.y=red&labels.k=&nodes.n.name=x"},
		{"wrappers", testQueryMessage("Wrappers",
			`wrapped_int {value: 5} wrapped_string {} wrapped_bool {value: true}`),
			"wrappedBool=true&wrappedInt=5&wrappedString="},
		{"nested and header", testQueryMessage("Presence",
			`opt_s: "s" number: 3 at {seconds: 1771065000} node {name: "x" child {name: "y"}}
			 tags: ["a", "b"]`),
			"at=2026-02-14T10%3A30%3A00.000Z&node.child.name=y&node.name=x&number=3&optS=s" +
				"&tags=a&tags=b"},
		{"inline", testQueryMessage("Outer", `middle {inner {deep: "d"} mid: "m"} own: 1`),
			"deep=d&mid=m&own=1"},
		{"unwrap", testQueryMessage("Unwraps",
			`color {color: COLOR_RED} note {value: "n"} values {string_value: "s"}
			 values {string_value: "1.5"} tags {values: ["a", "b"]}
			 metadata {fields {key: "k" value {string_value: "2"}}}
			 notes {key: "a" value {value: "v"}}`),
			"color=red&metadata.k=2&note=n&notes.a=v&tags=a&tags=b&values=s&values=1.5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := tc.message(t)
			values, err := EncodeQuery(want, nil)
			if err != nil {
				t.Fatalf("EncodeQuery: %v", err)
			}
			if got := values.Encode(); got != tc.query {
				t.Errorf("EncodeQuery\n got: %s\nwant: %s", got, tc.query)
			}
			parsed, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatalf("parse query %q: %v", tc.query, err)
			}
			got := want.ProtoReflect().New().Interface()
			if err := DecodeQuery(parsed, got); err != nil {
				t.Fatalf("DecodeQuery: %v", err)
			}
			if !proto.Equal(got, want) {
				t.Errorf("DecodeQuery\n got: %v\nwant: %v", prototext.Format(got), prototext.Format(want))
			}
		})
	}
}

// TestEncodeQueryOmit checks that omitted fields and header fields are
// left out.
func TestEncodeQueryOmit(t *testing.T) {
	t.Parallel()
	m := &groundcamv1.GetSessionScreenshotsRequest{Id: "s1", UrlTtl: proto.Int32(60)}
	values, err := EncodeQuery(m, isField("id"))
	if err != nil {
		t.Fatalf("EncodeQuery: %v", err)
	}
	if want := (url.Values{"url_ttl": {"60"}}); !reflect.DeepEqual(values, want) {
		t.Errorf("EncodeQuery = %v, want %v", values, want)
	}
	values, err = EncodeQuery(parseTestMessage(t, "Presence", `secret: "k"`), nil)
	if err != nil {
		t.Fatalf("EncodeQuery: %v", err)
	}
	if len(values) != 0 {
		t.Errorf("EncodeQuery of a header field = %v, want no parameters", values)
	}
}

func isField(name protoreflect.Name) func(protoreflect.FieldDescriptor) bool {
	return func(fd protoreflect.FieldDescriptor) bool { return fd.Name() == name }
}

// TestEncodeQueryErrors checks the values that have no query form.
func TestEncodeQueryErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, message, text, want string
	}{
		{"Value", "Dynamic", `any {string_value: "x"}`, "google.protobuf.Value has no query string form"},
		{"Struct", "Dynamic", `object {}`, "google.protobuf.Struct has no query string form"},
		{"enum without wire value", "Enums", `color: COLOR_NO_WIRE`, "no wire_value for number 3"},
		{"NaN", "Floats", `db: nan`, "NaN"},
		{"plan error", "HasBad", `bad {a: "x"}`, "(unwrap)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := EncodeQuery(parseTestMessage(t, tc.message, tc.text), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("EncodeQuery: err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestDecodeQueryErrors checks that each bad parameter gives an error that
// names it, quotes the value and states what is accepted.
func TestDecodeQueryErrors(t *testing.T) {
	t.Parallel()
	sessions := func() proto.Message { return &groundcamv1.ListSessionsRequest{} }
	agents := func() proto.Message { return &groundcamv1.ListAgentsRequest{} }
	test := func(name string) func() proto.Message {
		return func() proto.Message { return newTestMessage(t, name) }
	}
	cases := []struct {
		name    string
		message func() proto.Message
		query   string
		want    string
	}{
		{"bad bool", agents, "includeDisabled=maybe",
			`invalid value "maybe" for query parameter "includeDisabled": use true or false`},
		{"capitalized bool", agents, "includeDisabled=True",
			`invalid value "True" for query parameter "includeDisabled": use true or false`},
		{"bad enum", agents, "role=boss",
			`invalid value "boss" for query parameter "role": use one of owner, admin, agent, viewer`},
		{"empty enum", agents, "role=",
			`invalid value "" for query parameter "role": use one of owner, admin, agent, viewer`},
		{"unknown parameter", agents, "foo=1",
			`unknown query parameter "foo": use one of role, includeDisabled`},
		{"unknown with map", sessions, "page=2",
			`unknown query parameter "page": use one of status, agentId, crmId, createdAfter, ` +
				`createdBefore, updatedAfter, limit, startAfter, metadata.<key>`},
		{"bad integer", sessions, "limit=abc",
			`invalid value "abc" for query parameter "limit": use an integer between -2147483648 and 2147483647`},
		{"fraction", sessions, "limit=1.5", `invalid value "1.5" for query parameter "limit"`},
		{"out of range", sessions, "limit=99999999999", `invalid value "99999999999"`},
		{"spaces around number", sessions, "limit=+20", `invalid value " 20"`},
		{"bad timestamp", sessions, "createdAfter=yesterday",
			`invalid value "yesterday" for query parameter "createdAfter": ` +
				`use an RFC 3339 timestamp such as 2026-02-14T10:30:00.000Z`},
		{"repeated single", sessions, "limit=1&limit=2",
			`query parameter "limit" is given 2 times: give it once`},
		{"map without key", sessions, "metadata=x",
			`query parameter "metadata" needs a key: use metadata.<key>=<value>`},
		{"map empty key", sessions, "metadata.=x",
			`query parameter "metadata." has an empty key: use metadata.<key>=<value>`},
		{"repeated map entry", sessions, "metadata.a=1&metadata.a=2",
			`query parameter "metadata.a" is given 2 times`},
		{"dotted scalar", sessions, "status.x=1", `unknown query parameter "status.x"`},
		{"unsigned negative", test("Ints"), "u32=-1",
			`invalid value "-1" for query parameter "u32": use an integer between 0 and 4294967295`},
		{"bad float", test("Floats"), "db=1e400", `invalid value "1e400" for query parameter "db": use a number`},
		{"bad bytes", test("Texts"), "by=!!!", `for query parameter "by": use a base64 string`},
		{"header field", test("Presence"), "secret=k", `unknown query parameter "secret"`},
		{"unknown nested", test("Presence"), "node.nope=1",
			`unknown query parameter "node.nope": use one of node.child.<field>, node.name`},
		{"bad map key", test("Maps"), "byNumber.x=a",
			`invalid key "x" in query parameter "byNumber.x": use an integer`},
		{"bad map value", test("Maps"), "colorByName.a=green",
			`invalid value "green" for query parameter "colorByName.a": use one of red, dark_blue`},
		{"bad unwrap enum", test("Unwraps"), "color=pink", `use one of red, dark_blue`},
		{"message without field", test("Presence"), "node=x",
			`query parameter "node" needs a field: use node.<field>=<value>`},
		{"map entry without field", test("Maps"), "nodes.n",
			`query parameter "nodes.n" needs a field: use nodes.n.<field>=<value>`},
		{"map entry empty field", test("Maps"), "nodes.n.",
			`unknown query parameter "nodes.n.": use one of nodes.n.child.<field>, nodes.n.name`},
		{"Value field", test("Dynamic"), "any=1",
			`query parameter "any" refers to a field that has no query string form`},
		{"long value cut", agents, "role=" + strings.Repeat("x", 200),
			`invalid value "` + strings.Repeat("x", 64) + `"...`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			values, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatalf("parse query %q: %v", tc.query, err)
			}
			err = DecodeQuery(values, tc.message())
			if err == nil {
				t.Fatalf("DecodeQuery(%s) succeeded, want an error containing %q", tc.query, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("DecodeQuery(%s) error = %q, want it to contain %q", tc.query, err, tc.want)
			}
			var queryErr *QueryError
			if !errors.As(err, &queryErr) {
				t.Errorf("DecodeQuery error %T is not a *QueryError", err)
			}
		})
	}
}

// TestDecodeQueryKeepsFields checks that decoding merges into the fields
// already set, such as path parameters, and rejects omitted ones.
func TestDecodeQueryKeepsFields(t *testing.T) {
	t.Parallel()
	m := &groundcamv1.GetSessionScreenshotsRequest{Id: "s1"}
	opts := QueryOptions{Omit: isField("id")}
	if err := opts.Decode(url.Values{"url_ttl": {"120"}}, m); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if m.GetId() != "s1" || m.GetUrlTtl() != 120 {
		t.Errorf("Decode = %v, want id s1 and url_ttl 120", m)
	}
	err := opts.Decode(url.Values{"id": {"other"}}, m)
	if err == nil || !strings.Contains(err.Error(), `unknown query parameter "id": use one of url_ttl`) {
		t.Errorf("Decode of an omitted field: err = %v, want an unknown parameter error", err)
	}
}
