package jsonmap

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// codecCase is a message in protobuf text format and its exact JSON.
type codecCase struct {
	name    string
	message string
	text    string
	json    string
}

// TestCodecBothWays checks that each message marshals to its JSON byte for
// byte and that the JSON unmarshals back to an equal message.
func TestCodecBothWays(t *testing.T) {
	t.Parallel()
	cases := []codecCase{
		{"ints zero", "Ints", ``,
			`{"i32":0,"i64":0,"u32":0,"u64":0,"s32":0,"s64":0,"f32":0,"f64":0,"sf32":0,"sf64":0}`},
		{"ints extremes", "Ints",
			`i32: -2147483648 i64: -9223372036854775808 u32: 4294967295
			 u64: 18446744073709551615 s32: 2147483647 s64: 9223372036854775807
			 f32: 1 f64: 2 sf32: -3 sf64: -4`,
			`{"i32":-2147483648,"i64":-9223372036854775808,"u32":4294967295,` +
				`"u64":18446744073709551615,"s32":2147483647,"s64":9223372036854775807,` +
				`"f32":1,"f64":2,"sf32":-3,"sf64":-4}`},
		{"int64 beyond 2^53", "Ints", `i64: 9007199254740993`,
			`{"i32":0,"i64":9007199254740993,"u32":0,"u64":0,"s32":0,"s64":0,"f32":0,"f64":0,"sf32":0,"sf64":0}`},
		{"doubles shortest", "Floats", `fl: 0.1 db: 1548`, `{"fl":0.1,"db":1548}`},
		{"double fraction", "Floats", `db: 4.2`, `{"fl":0,"db":4.2}`},
		{"double large", "Floats", `db: 1e21`, `{"fl":0,"db":1e+21}`},
		{"double below 1e21", "Floats", `db: 123456789012345680000`, `{"fl":0,"db":123456789012345680000}`},
		{"double small", "Floats", `db: 1e-7`, `{"fl":0,"db":1e-7}`},
		{"double negative", "Floats", `db: -0.000001`, `{"fl":0,"db":-0.000001}`},
		{"strings escaped", "Texts",
			`s: "a\"b\\c\n\t\x01é😀</>" by: "\x00\xff" b: true renamed: "x"`,
			`{"s":"a\"b\\c\n\t\u0001é😀</>","by":"AP8=","b":true,"url_ttl":"x"}`},
		{"texts zero", "Texts", ``, `{"s":"","by":"","b":false,"url_ttl":""}`},
		{"enums zero", "Enums", ``, `{"nullableColor":null,"colors":[]}`},
		{"enums set", "Enums",
			`color: COLOR_RED nullable_color: COLOR_DARK_BLUE colors: [COLOR_RED, COLOR_DARK_BLUE]
			 opt_color: COLOR_RED`,
			`{"color":"red","nullableColor":"dark_blue","colors":["red","dark_blue"],"optColor":"red"}`},
		{"maps empty", "Maps", ``,
			`{"byNumber":{},"colorByName":{},"byFlag":{},"nodes":{},"labels":{}}`},
		{"maps sorted", "Maps",
			`by_number {key: 10 value: "a"} by_number {key: 9 value: "b"}
			 color_by_name {key: "x" value: COLOR_RED}
			 by_flag {key: true value: -5} by_flag {key: false value: 7}
			 nodes {key: "n" value {name: "x" child {}}}
			 labels {key: "z" value: "1"} labels {key: "a" value: "2"} labels {key: "é" value: ""}`,
			`{"byNumber":{"10":"a","9":"b"},"colorByName":{"x":"red"},` +
				`"byFlag":{"false":7,"true":-5},"nodes":{"n":{"child":{},"name":"x"}},` +
				`"labels":{"a":"2","z":"1","é":""}}`},
		{"wrappers unset", "Wrappers", ``, `{"wrappedInt":null}`},
		{"wrappers set", "Wrappers",
			`wrapped_int {value: 9007199254740993} wrapped_string {} wrapped_bool {}
			 wrapped_double {value: 2.5}`,
			`{"wrappedInt":9007199254740993,"wrappedString":"","wrappedBool":false,"wrappedDouble":2.5}`},
		{"dynamic unset", "Dynamic", ``, `{"object":null,"values":[]}`},
		{"dynamic set", "Dynamic",
			`any {struct_value {
			   fields {key: "b" value {list_value {
			     values {number_value: 1} values {null_value: NULL_VALUE}
			     values {string_value: "s"} values {bool_value: true}}}}
			   fields {key: "a" value {struct_value {}}}}}
			 list {values {number_value: 1.5}}
			 object {}
			 values {null_value: NULL_VALUE} values {number_value: 3}`,
			`{"any":{"a":{},"b":[1,null,"s",true]},"list":[1.5],"object":{},"values":[null,3]}`},
		{"dynamic null value", "Dynamic", `any {null_value: NULL_VALUE}`,
			`{"any":null,"object":null,"values":[]}`},
		{"dynamic empty list", "Dynamic", `any {list_value {}} list {}`,
			`{"any":[],"list":[],"object":null,"values":[]}`},
		{"presence unset", "Presence", ``,
			`{"optS":null,"number":null,"at":null,"tags":[]}`},
		{"presence zero values", "Presence",
			`opt_i64: 0 opt_s: "" text: "t" at {seconds: 1771065000 nanos: 123000000} node {}
			 tags: ["a", ""]`,
			`{"optI64":0,"optS":"","text":"t","number":null,"at":"2026-02-14T10:30:00.123Z",` +
				`"node":{},"tags":["a",""]}`},
		{"oneof nullable member", "Presence", `number: 5`,
			`{"optS":null,"number":5,"at":null,"tags":[]}`},
		{"timestamp epoch", "Presence", `at {}`,
			`{"optS":null,"number":null,"at":"1970-01-01T00:00:00.000Z","tags":[]}`},
		{"inline unset", "Outer", ``, `{"own":0}`},
		{"inline nested", "Outer", `middle {inner {deep: "d"} mid: "m"} own: 1`,
			`{"deep":"d","mid":"m","own":1}`},
		{"inline inner unset", "Outer", `middle {}`, `{"mid":"","own":0}`},
		{"inline inner empty", "Outer", `middle {inner {}}`,
			`{"deep":null,"mid":"","own":0}`},
		{"unwrap values", "Unwraps",
			`color {color: COLOR_RED} note {value: "n"}
			 values {string_value: "s"} values {number_value: 1.5} values {bool_value: false}
			 values {}
			 tags {values: ["a"]} metadata {fields {key: "k" value {number_value: 2}}}
			 node {node {name: "x"}}
			 notes {key: "a" value {value: "v"}} notes {key: "b" value {}}`,
			`{"color":"red","note":"n","values":["s",1.5,false,null],"tags":["a"],` +
				`"metadata":{"k":2},"node":{"name":"x"},"notes":{"a":"v","b":null}}`},
		{"inline of a referring message", "Parent", `child {parent {p: 2} c: "x"} p: 1`,
			`{"child":{"p":2,"c":"x"},"p":1}`},
		{"unwrap empty", "Unwraps", `note {} tags {} metadata {} node {}`,
			`{"note":null,"values":[],"tags":[],"metadata":{},"node":null,"notes":{}}`},
		{"unwrap empty string", "Unwraps", `note {value: ""}`,
			`{"note":"","values":[],"notes":{}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := parseTestMessage(t, tc.message, tc.text)
			got, err := Marshal(want)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(got) != tc.json {
				t.Errorf("Marshal\n got: %s\nwant: %s", got, tc.json)
			}
			back := newTestMessage(t, tc.message)
			if err := Unmarshal([]byte(tc.json), back); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !proto.Equal(back, want) {
				t.Errorf("Unmarshal\n got: %v\nwant: %v", prototext.Format(back), prototext.Format(want))
			}
		})
	}
}

// TestMarshalOneWay checks encodings whose JSON decodes to a different but
// equivalent message: header fields, sub-millisecond digits, negative zero
// and zero enums inside unwrap messages.
func TestMarshalOneWay(t *testing.T) {
	t.Parallel()
	cases := []codecCase{
		{"header field left out", "Presence", `secret: "k" opt_i64: 1`,
			`{"optI64":1,"optS":null,"number":null,"at":null,"tags":[]}`},
		{"nanos truncated", "Presence", `at {seconds: 1771065000 nanos: 999999}`,
			`{"optS":null,"number":null,"at":"2026-02-14T10:30:00.000Z","tags":[]}`},
		{"negative zero", "Floats", `db: -0`, `{"fl":0,"db":0}`},
		// An unset nullable unwrap field is written as null, which reads back
		// as a set, empty message: both are written as null.
		{"unwrap unset", "Unwraps", ``, `{"note":null,"values":[],"notes":{}}`},
		{"unwrap zero enum", "Unwraps", `color {}`,
			`{"color":null,"note":null,"values":[],"notes":{}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Marshal(parseTestMessage(t, tc.message, tc.text))
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(got) != tc.json {
				t.Errorf("Marshal\n got: %s\nwant: %s", got, tc.json)
			}
		})
	}
}

// TestMarshalInvalidUTF8 checks that invalid UTF-8 in a string field is
// written as U+FFFD.
func TestMarshalInvalidUTF8(t *testing.T) {
	t.Parallel()
	m := newTestMessage(t, "Texts")
	m.Set(m.Descriptor().Fields().ByName("s"), protoreflect.ValueOfString("a\xffb\xc3"))
	got, err := Marshal(m)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if want := `{"s":"a\ufffdb\ufffd","by":"","b":false,"url_ttl":""}`; string(got) != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
}

// TestMarshalOmit checks that MarshalOptions.Omit leaves fields out.
func TestMarshalOmit(t *testing.T) {
	t.Parallel()
	m := parseTestMessage(t, "Outer", `middle {inner {deep: "d"} mid: "m"} own: 1`)
	omit := func(fd protoreflect.FieldDescriptor) bool {
		return fd.Name() == "own" || fd.Name() == "mid"
	}
	got, err := MarshalOptions{Omit: omit}.Marshal(m)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if want := `{"deep":"d"}`; string(got) != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
}

// TestAppendMarshal checks that AppendMarshal keeps the bytes before it.
func TestAppendMarshal(t *testing.T) {
	t.Parallel()
	m := parseTestMessage(t, "Floats", `db: 2`)
	got, err := MarshalOptions{}.AppendMarshal([]byte(`{"data":`), m)
	if err != nil {
		t.Fatalf("AppendMarshal: %v", err)
	}
	if want := `{"data":{"fl":0,"db":2}`; string(got) != want {
		t.Errorf("AppendMarshal = %s, want %s", got, want)
	}
}

// TestMarshalErrors checks the errors for values that have no JSON form.
func TestMarshalErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		message string
		text    string
		want    string
	}{
		{"NaN", "Floats", `db: nan`, "NaN and infinite numbers have no JSON form"},
		{"infinity", "Floats", `fl: inf`, "NaN and infinite numbers have no JSON form"},
		{"NaN in Value", "Dynamic", `any {number_value: nan}`, "NaN"},
		{"enum without wire value", "Enums", `color: COLOR_NO_WIRE`,
			"enum jsonmaptest.Color has no wire_value for number 3"},
		{"unknown enum number", "Enums", `colors: [99]`, "no wire_value for number 99"},
		{"zero enum in list", "Enums", `colors: [COLOR_UNSPECIFIED]`, "no wire_value for number 0"},
		{"timestamp out of range", "Presence", `at {seconds: 253402300800}`,
			"timestamp is outside years 0001 to 9999"},
		{"timestamp bad nanos", "Presence", `at {nanos: -1}`, "timestamp nanos"},
		{"unwrap with two fields", "HasBad", `bad {a: "x"}`,
			"message jsonmaptest.TwoFields: (unwrap): the message must have exactly one field or one oneof"},
		{"unwrap with no field", "NoFields", ``, "the message has no field to unwrap"},
		{"duration", "WithDuration", `timeout {}`,
			"google.protobuf.Duration has no GroundCam JSON mapping"},
		{"inline name collision", "Colliding", ``, `two fields have the JSON name "deep"`},
		{"inline scalar", "InlineScalar", ``, "(inline) needs a singular message field"},
		{"inline unwrap", "InlineUnwrap", ``, "(inline) needs a message written as an object"},
		{"inline cycle", "Cycle", ``, "(inline) forms a cycle"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Marshal(parseTestMessage(t, tc.message, tc.text))
			if err == nil {
				t.Fatalf("Marshal succeeded, want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Marshal error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestPlanErrorStaysLocal checks that a message type with bad options only
// fails where it is used.
func TestPlanErrorStaysLocal(t *testing.T) {
	t.Parallel()
	m := parseTestMessage(t, "HasBad", `good: "g"`)
	got, err := Marshal(m)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if want := `{"good":"g"}`; string(got) != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	if err := Unmarshal([]byte(`{"good":"x","bad":"y"}`), m); err == nil {
		t.Error("Unmarshal into the bad field succeeded")
	}
}

// TestMarshalDepth checks that encoding stops past maxDepth levels.
func TestMarshalDepth(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("child {", maxDepth) + strings.Repeat("}", maxDepth)
	m := parseTestMessage(t, "Node", text)
	if _, err := Marshal(m); err == nil || !strings.Contains(err.Error(), "deeper than 64") {
		t.Errorf("Marshal of %d nested messages: err = %v, want a depth error", maxDepth+1, err)
	}
	shallow := parseTestMessage(t, "Node",
		strings.Repeat("child {", maxDepth-1)+strings.Repeat("}", maxDepth-1))
	if _, err := Marshal(shallow); err != nil {
		t.Errorf("Marshal of %d nested messages: %v", maxDepth, err)
	}
}

// TestAPIPlans checks that every message of the groundcam.v1 API has a
// consistent JSON mapping.
func TestAPIPlans(t *testing.T) {
	t.Parallel()
	count := 0
	protoregistry.GlobalFiles.RangeFilesByPackage("groundcam.v1",
		func(fd protoreflect.FileDescriptor) bool {
			msgs := fd.Messages()
			for i := range msgs.Len() {
				md := msgs.Get(i)
				count++
				if p := planFor(md); p.err != nil {
					t.Errorf("%s: %v", md.FullName(), p.err)
				}
			}
			return true
		})
	if count == 0 {
		t.Fatal("no groundcam.v1 messages are registered")
	}
}

// TestFieldCodec checks MarshalField and UnmarshalField, which handle the
// field that an HTTP rule's body or response_body names.
func TestFieldCodec(t *testing.T) {
	t.Parallel()
	fieldOf := func(m proto.Message, name protoreflect.Name) protoreflect.FieldDescriptor {
		return m.ProtoReflect().Descriptor().Fields().ByName(name)
	}
	cases := []struct {
		name  string
		msg   proto.Message
		field protoreflect.Name
		json  string
	}{
		{"message field", &groundcamv1.CreateSessionResponse{}, "session",
			`{"id":"s1","status":"pending","crmId":null,"ticketUrl":null,"metadata":null,"sessionTags":[]}`},
		{"list field", &groundcamv1.ListAgentsResponse{}, "agents",
			`[{"id":"a","email":"","displayName":"","role":"agent","disabled":true}]`},
		{"scalar field", &groundcamv1.ListAgentsResponse{}, "total", `7`},
		{"inline field", &groundcamv1.ResendSessionSmsResponse{}, "session",
			`{"id":"s1","agentId":"","agentName":null,"clientName":null,"clientEmail":null,` +
				`"crmId":null,"ticketUrl":null,"metadata":null,"createdAt":null,"updatedAt":null,` +
				`"expiresAt":null,"startedAt":null,"endedAt":null,"admittedAt":null,"duration":null,` +
				`"agentDuration":null,"clientDuration":null,"clientRating":null,"clientComment":null,` +
				`"closureTypeName":null,"sessionTags":[],"notes":null,"clientUrl":null}`},
		{"unset message field", &groundcamv1.CreateSessionResponse{}, "session", `null`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fd := fieldOf(tc.msg, tc.field)
			m := tc.msg.ProtoReflect().New().Interface()
			if err := (UnmarshalOptions{Strict: true}).UnmarshalField([]byte(tc.json), m, fd); err != nil {
				t.Fatalf("UnmarshalField: %v", err)
			}
			got, err := MarshalOptions{}.MarshalField(m, fd)
			if err != nil {
				t.Fatalf("MarshalField: %v", err)
			}
			if string(got) != tc.json {
				t.Errorf("MarshalField\n got: %s\nwant: %s", got, tc.json)
			}
		})
	}
	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		m := &groundcamv1.ListAgentsResponse{}
		err := (UnmarshalOptions{}).UnmarshalField([]byte(`7 8`), m, fieldOf(m, "total"))
		if err == nil || !strings.Contains(err.Error(), "unexpected data after the top-level value") {
			t.Errorf("UnmarshalField with trailing data: err = %v", err)
		}
		header := &groundcamv1.CreateSessionRequest{}
		err = (UnmarshalOptions{}).UnmarshalField([]byte(`"k"`), header, fieldOf(header, "idempotency_key"))
		if err == nil || !strings.Contains(err.Error(), "http_header field") {
			t.Errorf("UnmarshalField of a header field: err = %v", err)
		}
		_, err = MarshalOptions{}.MarshalField(m, fieldOf(header, "agent_id"))
		if err == nil || !strings.Contains(err.Error(), "does not belong to") {
			t.Errorf("MarshalField of another message's field: err = %v", err)
		}
	})
}
