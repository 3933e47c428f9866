package jsonmap

import (
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// describeMembers lists the JSON types an unwrap oneof takes, such as
// "a string, a number or a boolean".
func describeMembers(members []*fieldPlan) string {
	var out string
	for i, f := range members {
		switch {
		case i == 0:
		case i == len(members)-1:
			out += " or "
		default:
			out += ", "
		}
		out += describeKind(f.value)
	}
	return out
}

// describeKind names the JSON type of a value plan for error messages.
func describeKind(vp valuePlan) string {
	switch vp.kind {
	case protoreflect.BoolKind:
		return "a boolean"
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint32Kind, protoreflect.Fixed32Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return "an integer"
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return "a number"
	case protoreflect.StringKind:
		return "a string"
	case protoreflect.BytesKind:
		return "a base64 string"
	case protoreflect.EnumKind:
		return fmt.Sprintf("a string (%s)", describeAllowed(vp.enum.wires))
	}
	if vp.msg == nil {
		return "a value"
	}
	switch vp.msg.shape {
	case shapeTimestamp:
		return "an RFC 3339 timestamp string"
	case shapeListValue:
		return "an array"
	case shapeValue:
		return "a JSON value"
	case shapeWrapper:
		return describeKind(vp.msg.single.value)
	case shapeUnwrap:
		if vp.msg.single != nil {
			if vp.msg.single.fd.IsList() {
				return "an array"
			}
			if vp.msg.single.fd.IsMap() {
				return "an object"
			}
			return describeKind(vp.msg.single.value)
		}
		return describeMembers(vp.msg.members)
	}
	return "an object"
}

// jsonTypes is a set of JSON value types.
type jsonTypes uint8

const (
	typeString jsonTypes = 1 << iota
	typeNumber
	typeBool
	typeObject
	typeArray
	typeAny = typeString | typeNumber | typeBool | typeObject | typeArray
)

// accepts reports whether a value plan takes a JSON value that starts with c.
func accepts(vp valuePlan, c byte) bool {
	var t jsonTypes
	switch {
	case c == '"':
		t = typeString
	case c == 't' || c == 'f':
		t = typeBool
	case c == '-' || c >= '0' && c <= '9':
		t = typeNumber
	case c == '{':
		t = typeObject
	case c == '[':
		t = typeArray
	}
	return acceptedTypes(vp)&t != 0
}

// acceptedTypes returns the JSON types that a value plan reads.
func acceptedTypes(vp valuePlan) jsonTypes {
	switch vp.kind {
	case protoreflect.BoolKind:
		return typeBool
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.EnumKind:
		return typeString
	case protoreflect.MessageKind, protoreflect.GroupKind:
	default:
		return typeNumber
	}
	switch vp.msg.shape {
	case shapeTimestamp:
		return typeString
	case shapeListValue:
		return typeArray
	case shapeWrapper:
		return acceptedTypes(vp.msg.single.value)
	case shapeValue, shapeUnwrap:
		return typeAny
	}
	return typeObject
}

func isAnyValue(vp valuePlan) bool {
	return vp.msg != nil && vp.msg.shape == shapeValue
}

func parseMapKey(kind protoreflect.Kind, text string) (protoreflect.MapKey, bool) {
	if kind == protoreflect.StringKind {
		return protoreflect.ValueOfString(text).MapKey(), true
	}
	v, ok := parseScalarText(kind, text)
	if !ok {
		return protoreflect.MapKey{}, false
	}
	return v.MapKey(), true
}
