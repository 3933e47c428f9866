package jsonmap

import (
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// TestUnmarshalAccepts checks inputs that decode to a message other than
// their exact re-encoding: number forms, offsets, escapes, whitespace,
// nulls and unknown keys.
func TestUnmarshalAccepts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		message string
		json    string
		text    string
	}{
		{"integer with zero fraction", "Ints", `{"i32":1.0,"u64":1e3}`, `i32: 1 u64: 1000`},
		{"negative exponent whole", "Ints", `{"i64":250e-1}`, `i64: 25`},
		{"whitespace", "Ints", " \t\r\n{ \"i32\" :\n-7 , \"s64\": 0 }\n ", `i32: -7`},
		{"float32 rounding", "Floats", `{"fl":0.1,"db":1E2}`, `fl: 0.1 db: 100`},
		{"escapes", "Texts", `{"s":"\u00e9\ud83d\ude00\/\b\f\r\"\\"}`, `s: "é😀/\b\f\r\"\\"`},
		{"lone surrogate", "Texts", `{"s":"a\ud800b"}`, `s: "a\uFFFDb"`},
		{"bytes unpadded URL alphabet", "Texts", `{"by":"-_8"}`, `by: "\xfb\xff"`},
		{"timestamp offset", "Presence", `{"at":"2026-02-14T12:30:00.5+02:00"}`,
			`at {seconds: 1771065000 nanos: 500000000}`},
		{"timestamp without fraction", "Presence", `{"at":"2026-02-14T10:30:00Z"}`,
			`at {seconds: 1771065000}`},
		{"null scalars stay unset", "Presence",
			`{"optI64":null,"optS":null,"text":null,"number":null,"at":null,"node":null,"tags":null}`,
			``},
		{"null plain fields stay zero", "Ints", `{"i32":null}`, ``},
		{"null enum", "Enums", `{"color":null,"colors":null,"optColor":null}`, ``},
		{"null map and wrapper", "Maps", `{"labels":null}`, ``},
		{"null wrapper", "Wrappers", `{"wrappedInt":null}`, ``},
		{"null Value", "Dynamic", `{"any":null,"object":null}`, `any {null_value: NULL_VALUE}`},
		{"null unwrap without presence", "Unwraps", `{"tags":null,"metadata":null,"color":null}`, ``},
		{"null unwrap with presence", "Unwraps", `{"note":null,"node":null}`, `note {} node {}`},
		{"null in map of unwrap", "Unwraps", `{"notes":{"a":null}}`, `notes {key: "a" value {}}`},
		{"unknown keys skipped", "Ints",
			`{"x":{"y":[1,{"z":null},"s",true,false,-1.5e3]},"i32":2,"y":"\u0041"}`, `i32: 2`},
		{"header field ignored", "Presence", `{"secret":"k"}`, ``},
		{"proto name is unknown", "Texts", `{"renamed":"x"}`, ``},
		{"top-level null", "Ints", `null`, ``},
		{"inline from enclosing keys", "Outer", `{"deep":"d","own":2}`,
			`middle {inner {deep: "d"}} own: 2`},
		{"oneof member null then value", "Presence", `{"number":null,"text":"t"}`, `text: "t"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := parseTestMessage(t, tc.message, tc.text)
			got := newTestMessage(t, tc.message)
			if err := Unmarshal([]byte(tc.json), got); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !proto.Equal(got, want) {
				t.Errorf("Unmarshal\n got: %v\nwant: %v", prototext.Format(got), prototext.Format(want))
			}
		})
	}
}

// TestUnmarshalErrors checks that bad input gives an error with the JSON
// path, the offset and what was expected.
func TestUnmarshalErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		message string
		json    string
		want    string
	}{
		{"empty input", "Ints", ``, "invalid JSON at offset 0: unexpected end of input"},
		{"truncated object", "Ints", `{"i32":1`, "invalid JSON at offset 8: unexpected end of input"},
		{"truncated key", "Ints", `{"i3`, "unexpected end of input in string"},
		{"missing value", "Ints", `{"i32":}`,
			"invalid JSON at i32 (offset 7): expected an integer, got the character '}'"},
		{"trailing comma", "Ints", `{"i32":1,}`, "expected a string, got the character '}'"},
		{"missing colon", "Ints", `{"i32" 1}`, "expected ':' after the key, got a number"},
		{"missing comma", "Ints", `{"i32":1 "i64":2}`, "expected ',' or '}', got a string"},
		{"trailing data", "Ints", `{} {}`, "invalid JSON at offset 3: unexpected data after the top-level value"},
		{"array for object", "Ints", `[1]`, "invalid JSON at offset 0: expected an object, got an array"},
		{"string for object", "Presence", `{"node":"x"}`, "node (offset 8): expected an object, got a string"},
		{"fraction for integer", "Ints", `{"i32":1.5}`,
			"invalid JSON at i32 (offset 7): expected an integer, got 1.5"},
		{"int32 out of range", "Ints", `{"i32":2147483648}`,
			"number 2147483648 is out of range for an integer between -2147483648 and 2147483647"},
		{"uint32 negative", "Ints", `{"u32":-1}`, "out of range for an integer between 0 and 4294967295"},
		{"int64 out of range", "Ints", `{"i64":1e19}`, "number 1e19 is out of range"},
		{"uint64 overflow", "Ints", `{"u64":18446744073709551616}`, "out of range"},
		{"quoted number", "Ints", `{"i64":"1"}`, "i64 (offset 7): expected an integer, got a string"},
		{"float32 overflow", "Floats", `{"fl":1e39}`, "out of range for a 32-bit floating-point number"},
		{"double overflow", "Floats", `{"db":1e400}`, "out of range for a 64-bit floating-point number"},
		{"leading zero", "Ints", `{"i32":01}`, "expected ',' or '}', got a number"},
		{"bare minus", "Ints", `{"i32":-}`, "invalid number: a digit must follow '-'"},
		{"bare point", "Ints", `{"i32":1.}`, "invalid number: a digit must follow '.'"},
		{"bare exponent", "Ints", `{"i32":1e}`, "invalid number: a digit must follow the exponent"},
		{"plus sign", "Ints", `{"i32":+1}`, "expected an integer, got the character '+'"},
		{"number for string", "Texts", `{"s":1}`, "s (offset 5): expected a string, got a number"},
		{"string for bool", "Texts", `{"b":"true"}`, "b (offset 5): expected a boolean, got a string"},
		{"bad literal", "Texts", `{"b":tru}`, "invalid literal: expected true"},
		{"bad null", "Texts", `{"b":nul}`, "invalid literal: expected null"},
		{"bad base64", "Texts", `{"by":"!!"}`, "by (offset 6): invalid base64 string"},
		{"control character", "Texts", "{\"s\":\"a\x01\"}", `control character '\x01' in string`},
		{"bad escape", "Texts", `{"s":"\q"}`, `invalid escape sequence \q in string`},
		{"short unicode escape", "Texts", `{"s":"\u12"}`, `invalid \u escape in string`},
		{"invalid UTF-8", "Texts", "{\"s\":\"\xff\"}", "invalid UTF-8 in string"},
		{"invalid UTF-8 key", "Texts", "{\"\xff\":1}", "invalid UTF-8 in string"},
		{"unknown enum", "Enums", `{"color":"green"}`,
			`color (offset 9): unknown value "green" for jsonmaptest.Color: use one of red, dark_blue`},
		{"enum number", "Enums", `{"color":1}`, "color (offset 9): expected a string, got a number"},
		{"string for list", "Enums", `{"colors":"red"}`, "colors (offset 10): expected an array, got a string"},
		{"null in list", "Enums", `{"colors":["red",null]}`,
			"colors[1] (offset 17): expected a string (one of red, dark_blue), got null"},
		{"bad map key", "Maps", `{"byNumber":{"x":"a"}}`, `byNumber (offset 13): invalid map key "x": expected an integer`},
		{"bad bool map key", "Maps", `{"byFlag":{"yes":1}}`, `invalid map key "yes": expected a boolean`},
		{"duplicate map key", "Maps", `{"labels":{"a":"1","a":"2"}}`, `labels (offset 19): duplicate key "a"`},
		{"null map value", "Maps", `{"labels":{"a":null}}`, "labels.a (offset 15): expected a string, got null"},
		{"map value path", "Maps", `{"nodes":{"n":{"child":{"name":5}}}}`,
			"nodes.n.child.name (offset 31): expected a string, got a number"},
		{"duplicate key", "Presence", `{"optI64":1,"optI64":2}`, `duplicate key "optI64"`},
		{"duplicate inline key", "Outer", `{"deep":"a","deep":"b"}`, `duplicate key "deep"`},
		{"oneof twice", "Presence", `{"text":"a","number":1}`,
			"number (offset 21): text and number are members of oneof choice: give only one"},
		{"list item path", "Presence", `{"tags":["a",1]}`, "tags[1] (offset 13): expected a string, got a number"},
		{"bad timestamp", "Presence", `{"at":"yesterday"}`,
			`at (offset 6): invalid timestamp "yesterday": use RFC 3339 such as 2026-02-14T10:30:00.000Z`},
		{"date only timestamp", "Presence", `{"at":"2026-02-14"}`, "invalid timestamp"},
		{"timestamp year 0", "Presence", `{"at":"0001-01-01T00:00:00+01:00"}`, "invalid timestamp"},
		{"number timestamp", "Presence", `{"at":1771065000}`, "at (offset 6): expected a string, got a number"},
		{"object in metadata", "Unwraps", `{"values":[{}]}`,
			"values[0] (offset 11): expected a string, a number or a boolean, got an object"},
		{"list in metadata", "Unwraps", `{"metadata":{"k":[1]}}`,
			"metadata.k (offset 17): expected a string, a number or a boolean, got an array"},
		{"object for string list", "Unwraps", `{"tags":{}}`, "tags (offset 8): expected an array, got an object"},
		{"unwrap enum unknown", "Unwraps", `{"color":"pink"}`, `unknown value "pink"`},
		{"unwrap message", "Unwraps", `{"node":"x"}`, "node (offset 8): expected an object, got a string"},
		{"bad Value", "Dynamic", `{"any":x}`, "any (offset 7): expected a JSON value, got the character 'x'"},
		{"duplicate Struct key", "Dynamic", `{"object":{"a":1,"a":2}}`, `object (offset 17): duplicate key "a"`},
		{"deep Value path", "Dynamic", `{"any":{"a":[1,{"b":tru}]}}`, "any.a[1].b (offset 20): invalid literal"},
		{"bad wrapper", "Wrappers", `{"wrappedBool":1}`, "wrappedBool (offset 15): expected a boolean, got a number"},
		{"bad unknown value", "Ints", `{"x":[1,}`, "x (offset 8): expected a JSON value, got the character '}'"},
		{"long value cut", "Enums", `{"color":"` + strings.Repeat("a", 100) + `"}`,
			`unknown value "` + strings.Repeat("a", 64) + `"...`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Unmarshal([]byte(tc.json), newTestMessage(t, tc.message))
			if err == nil {
				t.Fatalf("Unmarshal(%s) succeeded, want an error containing %q", tc.json, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Unmarshal(%s) error = %q, want it to contain %q", tc.json, err, tc.want)
			}
			var syntaxErr *SyntaxError
			if !errors.As(err, &syntaxErr) {
				t.Errorf("Unmarshal error %T is not a *SyntaxError", err)
			}
		})
	}
}

// TestUnmarshalDepth checks that nesting is bounded in fields, Values and
// skipped unknown values alike.
func TestUnmarshalDepth(t *testing.T) {
	t.Parallel()
	deepNode := strings.Repeat(`{"child":`, maxDepth) + `{}` + strings.Repeat(`}`, maxDepth)
	okNode := strings.Repeat(`{"child":`, maxDepth-1) + `{}` + strings.Repeat(`}`, maxDepth-1)
	cases := []struct {
		name    string
		message string
		json    string
		wantErr bool
	}{
		{"messages at the limit", "Node", okNode, false},
		{"messages past the limit", "Node", deepNode, true},
		{"values past the limit", "Dynamic",
			`{"any":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`, true},
		{"values at the limit", "Dynamic",
			`{"any":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}`, false},
		{"unknown value past the limit", "Ints",
			`{"x":` + strings.Repeat(`{"a":`, maxDepth) + `1` + strings.Repeat("}", maxDepth) + `}`, true},
		{"very deep input", "Dynamic", `{"any":` + strings.Repeat("[", 100000), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newTestMessage(t, tc.message)
			err := Unmarshal([]byte(tc.json), m)
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "nests deeper than 64") {
					t.Errorf("Unmarshal: err = %v, want a depth error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if _, err := Marshal(m); err != nil {
				t.Errorf("Marshal after Unmarshal: %v", err)
			}
		})
	}
}

// TestUnmarshalStrict checks that Strict rejects unknown keys by name.
func TestUnmarshalStrict(t *testing.T) {
	t.Parallel()
	strict := UnmarshalOptions{Strict: true}
	err := strict.Unmarshal([]byte(`{"i32":1,"extra":{"a":1}}`), newTestMessage(t, "Ints"))
	want := `invalid JSON at extra (offset 17): unknown field: jsonmaptest.Ints has no field with the JSON name "extra"`
	if err == nil || err.Error() != want {
		t.Errorf("strict Unmarshal error = %v, want %q", err, want)
	}
	err = strict.Unmarshal([]byte(`{"secret":"k"}`), newTestMessage(t, "Presence"))
	if err == nil || !strings.Contains(err.Error(), `"secret"`) {
		t.Errorf("strict Unmarshal of a header field: err = %v, want an unknown field error", err)
	}
	if err := strict.Unmarshal([]byte(`{"deep":"d","own":1}`), newTestMessage(t, "Outer")); err != nil {
		t.Errorf("strict Unmarshal of inline keys: %v", err)
	}
}

// TestNilMessage checks that decoding into a nil message is an error.
func TestNilMessage(t *testing.T) {
	t.Parallel()
	var m *groundcamv1.Session
	if err := Unmarshal([]byte(`{}`), m); !errors.Is(err, errNilMessage) {
		t.Errorf("Unmarshal into nil: err = %v, want errNilMessage", err)
	}
	fd := (&groundcamv1.Session{}).ProtoReflect().Descriptor().Fields().ByName("id")
	if err := (UnmarshalOptions{}).UnmarshalField([]byte(`"x"`), m, fd); !errors.Is(err, errNilMessage) {
		t.Errorf("UnmarshalField into nil: err = %v, want errNilMessage", err)
	}
	if err := DecodeQuery(nil, m); !errors.Is(err, errNilMessage) {
		t.Errorf("DecodeQuery into nil: err = %v, want errNilMessage", err)
	}
	if _, err := Marshal(m); err != nil {
		t.Errorf("Marshal of nil: %v", err)
	}
}

// TestUnmarshalResets checks that Unmarshal clears fields set before.
func TestUnmarshalResets(t *testing.T) {
	t.Parallel()
	m := &groundcamv1.ListAgentsResponse{Total: 3, Agents: []*groundcamv1.Agent{{Id: "a"}}}
	if err := Unmarshal([]byte(`{"agents":[{"id":"b"}]}`), m); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if m.GetTotal() != 0 || len(m.GetAgents()) != 1 || m.GetAgents()[0].GetId() != "b" {
		t.Errorf("Unmarshal kept old fields: %v", m)
	}
}

// TestThreeStates checks that absent, null and a value stay apart for the
// unwrap types of the API.
func TestThreeStates(t *testing.T) {
	t.Parallel()
	t.Run("NullableString", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			json      string
			wantSet   bool
			wantValue *string
		}{
			{`{"id":"s"}`, false, nil},
			{`{"id":"s","notes":null}`, true, nil},
			{`{"id":"s","notes":""}`, true, proto.String("")},
			{`{"id":"s","notes":"n"}`, true, proto.String("n")},
		} {
			var m groundcamv1.UpdateSessionRequest
			if err := Unmarshal([]byte(tc.json), &m); err != nil {
				t.Fatalf("Unmarshal(%s): %v", tc.json, err)
			}
			if got := m.Notes != nil; got != tc.wantSet {
				t.Errorf("Unmarshal(%s): notes set = %v, want %v", tc.json, got, tc.wantSet)
			}
			if got := notesValue(&m); !equalStringPointers(got, tc.wantValue) {
				t.Errorf("Unmarshal(%s): notes value = %v, want %v", tc.json, got, tc.wantValue)
			}
			assertMarshal(t, &m, tc.json)
		}
	})
	t.Run("StringList", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			json    string
			wantSet bool
			wantLen int
		}{
			{`{"id":"s"}`, false, 0},
			{`{"id":"s","sessionTags":[]}`, true, 0},
			{`{"id":"s","sessionTags":["a","b"]}`, true, 2},
		} {
			var m groundcamv1.UpdateSessionRequest
			if err := Unmarshal([]byte(tc.json), &m); err != nil {
				t.Fatalf("Unmarshal(%s): %v", tc.json, err)
			}
			if got := m.SessionTags != nil; got != tc.wantSet {
				t.Errorf("Unmarshal(%s): sessionTags set = %v, want %v", tc.json, got, tc.wantSet)
			}
			if got := len(m.GetSessionTags().GetValues()); got != tc.wantLen {
				t.Errorf("Unmarshal(%s): %d tags, want %d", tc.json, got, tc.wantLen)
			}
			assertMarshal(t, &m, tc.json)
		}
	})
	t.Run("Metadata", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			json     string
			wantSet  bool
			wantJSON string
		}{
			{`{"agentId":"a"}`, false, `{"agentId":"a","sessionTags":[]}`},
			{`{"agentId":"a","metadata":null}`, false, `{"agentId":"a","sessionTags":[]}`},
			{`{"agentId":"a","metadata":{}}`, true, `{"agentId":"a","metadata":{},"sessionTags":[]}`},
			{`{"agentId":"a","metadata":{"s":"x","n":1.5,"b":true,"z":null}}`, true,
				`{"agentId":"a","metadata":{"b":true,"n":1.5,"s":"x","z":null},"sessionTags":[]}`},
		} {
			var m groundcamv1.CreateSessionRequest
			if err := Unmarshal([]byte(tc.json), &m); err != nil {
				t.Fatalf("Unmarshal(%s): %v", tc.json, err)
			}
			if got := m.Metadata != nil; got != tc.wantSet {
				t.Errorf("Unmarshal(%s): metadata set = %v, want %v", tc.json, got, tc.wantSet)
			}
			assertMarshal(t, &m, tc.wantJSON)
		}
	})
}

// notesValue returns the notes value, or nil when notes is unset or null.
func notesValue(m *groundcamv1.UpdateSessionRequest) *string {
	if m.GetNotes() == nil {
		return nil
	}
	return m.GetNotes().Value
}

func equalStringPointers(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func assertMarshal(t *testing.T, m proto.Message, want string) {
	t.Helper()
	got, err := Marshal(m)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if string(got) != want {
		t.Errorf("Marshal\n got: %s\nwant: %s", got, want)
	}
}

// TestSessionShape checks the JSON of a generated session: nullable fields,
// timestamps with milliseconds, doubles without fractions and enums.
func TestSessionShape(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 2, 14, 10, 30, 0, 0, time.UTC)
	m := &groundcamv1.Session{
		Id:           "Xk9mPq2rT4wZ",
		Status:       groundcamv1.SessionStatus_SESSION_STATUS_COMPLETED,
		AgentId:      "f7Kj2mNpQ1xR",
		AgentName:    proto.String("Marie Martin"),
		CreatedAt:    timestamppb.New(created),
		Duration:     proto.Float64(1548),
		ClientRating: proto.Float64(4.5),
		SessionTags:  []string{"installation"},
	}
	want := `{"id":"Xk9mPq2rT4wZ","status":"completed","agentId":"f7Kj2mNpQ1xR",` +
		`"agentName":"Marie Martin","clientName":null,"clientEmail":null,"crmId":null,` +
		`"ticketUrl":null,"metadata":null,"createdAt":"2026-02-14T10:30:00.000Z",` +
		`"updatedAt":null,"expiresAt":null,"startedAt":null,"endedAt":null,"admittedAt":null,` +
		`"duration":1548,"agentDuration":null,"clientDuration":null,"clientRating":4.5,` +
		`"clientComment":null,"closureTypeName":null,"sessionTags":["installation"],` +
		`"notes":null,"clientUrl":null}`
	assertMarshal(t, m, want)
}
