package jsonmap

import (
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	_ "google.golang.org/protobuf/types/known/durationpb"
	_ "google.golang.org/protobuf/types/known/structpb"
	_ "google.golang.org/protobuf/types/known/timestamppb"
	_ "google.golang.org/protobuf/types/known/wrapperspb"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// The test file declares message types that the generated API types do not
// cover: every scalar kind, wrappers, Struct and Value, maps with non-string
// keys, nested inline fields and inconsistent options. It is built at run
// time with the custom options set through proto.SetExtension.

type fieldOption func(*descriptorpb.FieldDescriptorProto)

func repeated(f *descriptorpb.FieldDescriptorProto) {
	f.Label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
}

func optional(f *descriptorpb.FieldDescriptorProto) { f.Proto3Optional = proto.Bool(true) }

func typeName(name string) fieldOption {
	return func(f *descriptorpb.FieldDescriptorProto) { f.TypeName = proto.String(name) }
}

func inOneof(index int32) fieldOption {
	return func(f *descriptorpb.FieldDescriptorProto) { f.OneofIndex = proto.Int32(index) }
}

func withJSONName(name string) fieldOption {
	return func(f *descriptorpb.FieldDescriptorProto) { f.JsonName = proto.String(name) }
}

func fieldOptions(f *descriptorpb.FieldDescriptorProto) *descriptorpb.FieldOptions {
	if f.Options == nil {
		f.Options = &descriptorpb.FieldOptions{}
	}
	return f.Options
}

func nullable(f *descriptorpb.FieldDescriptorProto) {
	proto.SetExtension(fieldOptions(f), groundcamv1.E_Nullable, true)
}

func inline(f *descriptorpb.FieldDescriptorProto) {
	proto.SetExtension(fieldOptions(f), groundcamv1.E_Inline, true)
}

func header(name string) fieldOption {
	return func(f *descriptorpb.FieldDescriptorProto) {
		proto.SetExtension(fieldOptions(f), groundcamv1.E_HttpHeader, name)
	}
}

const (
	tInt32    = descriptorpb.FieldDescriptorProto_TYPE_INT32
	tInt64    = descriptorpb.FieldDescriptorProto_TYPE_INT64
	tUint32   = descriptorpb.FieldDescriptorProto_TYPE_UINT32
	tUint64   = descriptorpb.FieldDescriptorProto_TYPE_UINT64
	tSint32   = descriptorpb.FieldDescriptorProto_TYPE_SINT32
	tSint64   = descriptorpb.FieldDescriptorProto_TYPE_SINT64
	tFixed32  = descriptorpb.FieldDescriptorProto_TYPE_FIXED32
	tFixed64  = descriptorpb.FieldDescriptorProto_TYPE_FIXED64
	tSfixed32 = descriptorpb.FieldDescriptorProto_TYPE_SFIXED32
	tSfixed64 = descriptorpb.FieldDescriptorProto_TYPE_SFIXED64
	tFloat    = descriptorpb.FieldDescriptorProto_TYPE_FLOAT
	tDouble   = descriptorpb.FieldDescriptorProto_TYPE_DOUBLE
	tBool     = descriptorpb.FieldDescriptorProto_TYPE_BOOL
	tString   = descriptorpb.FieldDescriptorProto_TYPE_STRING
	tBytes    = descriptorpb.FieldDescriptorProto_TYPE_BYTES
	tEnum     = descriptorpb.FieldDescriptorProto_TYPE_ENUM
	tMessage  = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
)

func field(
	name string,
	number int32,
	typ descriptorpb.FieldDescriptorProto_Type,
	opts ...fieldOption,
) *descriptorpb.FieldDescriptorProto {
	f := &descriptorpb.FieldDescriptorProto{
		Name:   proto.String(name),
		Number: proto.Int32(number),
		Type:   typ.Enum(),
		Label:  descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
	}
	for _, opt := range opts {
		opt(f)
	}
	return f
}

// testMessage is a message of the test file with its map fields.
type testMessage struct {
	name   string
	fields []*descriptorpb.FieldDescriptorProto
	oneofs []string
	unwrap bool
	maps   []testMap
}

// testMap is a map field; its entry type is generated.
type testMap struct {
	name      string
	number    int32
	key       descriptorpb.FieldDescriptorProto_Type
	value     descriptorpb.FieldDescriptorProto_Type
	valueType string
}

func (tm testMessage) build() *descriptorpb.DescriptorProto {
	md := &descriptorpb.DescriptorProto{Name: proto.String(tm.name)}
	for _, o := range tm.oneofs {
		md.OneofDecl = append(md.OneofDecl, &descriptorpb.OneofDescriptorProto{Name: proto.String(o)})
	}
	for _, f := range tm.fields {
		if f.GetProto3Optional() {
			// proto3 optional fields live in synthetic oneofs after the real ones.
			f.OneofIndex = proto.Int32(int32(len(md.OneofDecl)))
			md.OneofDecl = append(md.OneofDecl,
				&descriptorpb.OneofDescriptorProto{Name: proto.String("_" + f.GetName())})
		}
		md.Field = append(md.Field, f)
	}
	for _, m := range tm.maps {
		entry := mapEntryName(m.name)
		value := field("value", 2, m.value)
		if m.valueType != "" {
			value.TypeName = proto.String(m.valueType)
		}
		md.NestedType = append(md.NestedType, &descriptorpb.DescriptorProto{
			Name:    proto.String(entry),
			Field:   []*descriptorpb.FieldDescriptorProto{field("key", 1, m.key), value},
			Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
		})
		md.Field = append(md.Field, field(m.name, m.number, tMessage, repeated,
			typeName(".jsonmaptest."+tm.name+"."+entry)))
	}
	if tm.unwrap {
		md.Options = &descriptorpb.MessageOptions{}
		proto.SetExtension(md.Options, groundcamv1.E_Unwrap, true)
	}
	return md
}

func mapEntryName(field string) string {
	var sb strings.Builder
	for part := range strings.SplitSeq(field, "_") {
		sb.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return sb.String() + "Entry"
}

func testEnum() *descriptorpb.EnumDescriptorProto {
	value := func(name string, number int32, wire string) *descriptorpb.EnumValueDescriptorProto {
		v := &descriptorpb.EnumValueDescriptorProto{Name: proto.String(name), Number: proto.Int32(number)}
		if wire != "" {
			v.Options = &descriptorpb.EnumValueOptions{}
			proto.SetExtension(v.Options, groundcamv1.E_WireValue, wire)
		}
		return v
	}
	return &descriptorpb.EnumDescriptorProto{
		Name: proto.String("Color"),
		Value: []*descriptorpb.EnumValueDescriptorProto{
			value("COLOR_UNSPECIFIED", 0, ""),
			value("COLOR_RED", 1, "red"),
			value("COLOR_DARK_BLUE", 2, "dark_blue"),
			value("COLOR_NO_WIRE", 3, ""),
		},
	}
}

const (
	colorType   = ".jsonmaptest.Color"
	nodeType    = ".jsonmaptest.Node"
	wktPrefix   = ".google.protobuf."
	gcPrefix    = ".groundcam.v1."
	tsType      = wktPrefix + "Timestamp"
	structType  = wktPrefix + "Struct"
	valueType   = wktPrefix + "Value"
	listType    = wktPrefix + "ListValue"
	durationTyp = wktPrefix + "Duration"
)

func testMessages() []testMessage {
	return []testMessage{
		{name: "Ints", fields: []*descriptorpb.FieldDescriptorProto{
			field("i32", 1, tInt32), field("i64", 2, tInt64), field("u32", 3, tUint32),
			field("u64", 4, tUint64), field("s32", 5, tSint32), field("s64", 6, tSint64),
			field("f32", 7, tFixed32), field("f64", 8, tFixed64), field("sf32", 9, tSfixed32),
			field("sf64", 10, tSfixed64),
		}},
		{name: "Floats", fields: []*descriptorpb.FieldDescriptorProto{
			field("fl", 1, tFloat), field("db", 2, tDouble),
		}},
		{name: "Texts", fields: []*descriptorpb.FieldDescriptorProto{
			field("s", 1, tString), field("by", 2, tBytes), field("b", 3, tBool),
			field("renamed", 4, tString, withJSONName("url_ttl")),
		}},
		{name: "Enums", fields: []*descriptorpb.FieldDescriptorProto{
			field("color", 1, tEnum, typeName(colorType)),
			field("nullable_color", 2, tEnum, typeName(colorType), nullable),
			field("colors", 3, tEnum, typeName(colorType), repeated),
			field("opt_color", 4, tEnum, typeName(colorType), optional),
		}},
		{name: "Maps", maps: []testMap{
			{name: "by_number", number: 1, key: tInt32, value: tString},
			{name: "color_by_name", number: 2, key: tString, value: tEnum, valueType: colorType},
			{name: "by_flag", number: 3, key: tBool, value: tInt64},
			{name: "nodes", number: 4, key: tString, value: tMessage, valueType: nodeType},
			{name: "labels", number: 5, key: tString, value: tString},
		}},
		{name: "Wrappers", fields: []*descriptorpb.FieldDescriptorProto{
			field("wrapped_int", 1, tMessage, typeName(wktPrefix+"Int64Value"), nullable),
			field("wrapped_string", 2, tMessage, typeName(wktPrefix+"StringValue")),
			field("wrapped_bool", 3, tMessage, typeName(wktPrefix+"BoolValue")),
			field("wrapped_double", 4, tMessage, typeName(wktPrefix+"DoubleValue")),
		}},
		{name: "Dynamic", fields: []*descriptorpb.FieldDescriptorProto{
			field("any", 1, tMessage, typeName(valueType)),
			field("list", 2, tMessage, typeName(listType)),
			field("object", 3, tMessage, typeName(structType), nullable),
			field("values", 4, tMessage, typeName(valueType), repeated),
		}},
		{name: "Presence", oneofs: []string{"choice"}, fields: []*descriptorpb.FieldDescriptorProto{
			field("opt_i64", 1, tInt64, optional),
			field("opt_s", 2, tString, optional, nullable),
			field("text", 3, tString, inOneof(0)),
			field("number", 4, tInt32, inOneof(0), nullable),
			field("secret", 5, tString, header("X-Secret")),
			field("at", 6, tMessage, typeName(tsType), nullable),
			field("node", 7, tMessage, typeName(nodeType)),
			field("tags", 8, tString, repeated),
		}},
		{name: "Node", fields: []*descriptorpb.FieldDescriptorProto{
			field("child", 1, tMessage, typeName(nodeType)),
			field("name", 2, tString, optional),
		}},
		{name: "Outer", fields: []*descriptorpb.FieldDescriptorProto{
			field("middle", 1, tMessage, typeName(".jsonmaptest.Middle"), inline),
			field("own", 2, tInt32),
		}},
		{name: "Middle", fields: []*descriptorpb.FieldDescriptorProto{
			field("inner", 1, tMessage, typeName(".jsonmaptest.Inner"), inline),
			field("mid", 2, tString),
		}},
		{name: "Inner", fields: []*descriptorpb.FieldDescriptorProto{
			field("deep", 1, tString, optional, nullable),
		}},
		{name: "Unwraps", fields: []*descriptorpb.FieldDescriptorProto{
			field("color", 1, tMessage, typeName(".jsonmaptest.UnwrapColor")),
			field("note", 2, tMessage, typeName(gcPrefix+"NullableString"), nullable),
			field("values", 3, tMessage, typeName(gcPrefix+"MetadataValue"), repeated),
			field("tags", 5, tMessage, typeName(gcPrefix+"StringList")),
			field("metadata", 6, tMessage, typeName(gcPrefix+"Metadata")),
			field("node", 7, tMessage, typeName(".jsonmaptest.UnwrapNode")),
		}, maps: []testMap{
			{name: "notes", number: 4, key: tString, value: tMessage, valueType: gcPrefix + "NullableString"},
		}},
		{name: "UnwrapColor", unwrap: true, fields: []*descriptorpb.FieldDescriptorProto{
			field("color", 1, tEnum, typeName(colorType)),
		}},
		{name: "UnwrapNode", unwrap: true, fields: []*descriptorpb.FieldDescriptorProto{
			field("node", 1, tMessage, typeName(nodeType)),
		}},
		{name: "TwoFields", unwrap: true, fields: []*descriptorpb.FieldDescriptorProto{
			field("a", 1, tString), field("b", 2, tString),
		}},
		{name: "NoFields", unwrap: true},
		{name: "WithDuration", fields: []*descriptorpb.FieldDescriptorProto{
			field("timeout", 1, tMessage, typeName(durationTyp)),
		}},
		{name: "Colliding", fields: []*descriptorpb.FieldDescriptorProto{
			field("inner", 1, tMessage, typeName(".jsonmaptest.Inner"), inline),
			field("deep", 2, tString),
		}},
		{name: "InlineScalar", fields: []*descriptorpb.FieldDescriptorProto{
			field("s", 1, tString, inline),
		}},
		{name: "InlineUnwrap", fields: []*descriptorpb.FieldDescriptorProto{
			field("note", 1, tMessage, typeName(gcPrefix+"NullableString"), inline),
		}},
		{name: "Cycle", fields: []*descriptorpb.FieldDescriptorProto{
			field("self", 1, tMessage, typeName(".jsonmaptest.Cycle"), inline),
		}},
		{name: "Parent", fields: []*descriptorpb.FieldDescriptorProto{
			field("child", 1, tMessage, typeName(".jsonmaptest.Child")),
			field("p", 2, tInt32),
		}},
		{name: "Child", fields: []*descriptorpb.FieldDescriptorProto{
			field("parent", 1, tMessage, typeName(".jsonmaptest.Parent"), inline),
			field("c", 2, tString),
		}},
		{name: "HasBad", fields: []*descriptorpb.FieldDescriptorProto{
			field("good", 1, tString),
			field("bad", 2, tMessage, typeName(".jsonmaptest.TwoFields")),
		}},
	}
}

// testFile builds the test file once.
var testFile = sync.OnceValues(func() (protoreflect.FileDescriptor, error) {
	fdp := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("jsonmaptest/test.proto"),
		Package: proto.String("jsonmaptest"),
		Syntax:  proto.String("proto3"),
		Dependency: []string{
			"google/protobuf/timestamp.proto", "google/protobuf/struct.proto",
			"google/protobuf/wrappers.proto", "google/protobuf/duration.proto",
			"groundcam/v1/options.proto", "groundcam/v1/types.proto",
		},
		EnumType: []*descriptorpb.EnumDescriptorProto{testEnum()},
	}
	for _, tm := range testMessages() {
		fdp.MessageType = append(fdp.MessageType, tm.build())
	}
	return protodesc.NewFile(fdp, protoregistry.GlobalFiles)
})

// newTestMessage returns an empty dynamic message of the test file.
func newTestMessage(t testing.TB, name string) *dynamicpb.Message {
	t.Helper()
	fd, err := testFile()
	if err != nil {
		t.Fatalf("build test descriptors: %v", err)
	}
	md := fd.Messages().ByName(protoreflect.Name(name))
	if md == nil {
		t.Fatalf("test message %s is not declared", name)
	}
	return dynamicpb.NewMessage(md)
}

// parseTestMessage builds a test message from the protobuf text format.
func parseTestMessage(t testing.TB, name, text string) *dynamicpb.Message {
	t.Helper()
	m := newTestMessage(t, name)
	if err := prototext.Unmarshal([]byte(text), m); err != nil {
		t.Fatalf("parse %s text %q: %v", name, text, err)
	}
	return m
}
