package server

import (
	"fmt"
	"math"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// protoMessage is a request message.
type protoMessage = proto.Message

// timestampName is the full name of google.protobuf.Timestamp.
var timestampName = (&timestamppb.Timestamp{}).ProtoReflect().Descriptor().FullName()

// fieldPath is the position of a value in a request, in proto names for
// the BadRequest detail and in JSON names for the upstream-style message.
type fieldPath struct {
	proto, json string
}

func (p fieldPath) child(fd protoreflect.FieldDescriptor) fieldPath {
	if p.proto == "" {
		return fieldPath{proto: string(fd.Name()), json: fd.JSONName()}
	}
	return fieldPath{proto: p.proto + "." + string(fd.Name()), json: p.json + "." + fd.JSONName()}
}

func (p fieldPath) index(i int) fieldPath {
	return fieldPath{proto: fmt.Sprintf("%s[%d]", p.proto, i), json: fmt.Sprintf("%s[%d]", p.json, i)}
}

func (p fieldPath) key(k string) fieldPath {
	return fieldPath{proto: fmt.Sprintf("%s[%q]", p.proto, k), json: fmt.Sprintf("%s[%q]", p.json, k)}
}

// checkEncodable reports values that have no JSON form in the upstream's
// mapping: enum numbers without a wire value (zero included, inside lists
// and maps), timestamps outside the years 0001 to 9999, and NaN or
// infinite numbers. The upstream never receives such a request, so these
// violations carry the gateway's own INVALID_FIELD messages.
func checkEncodable(c *checker, prefix string, m protoreflect.Message) {
	checkEncodableAt(c, fieldPath{proto: prefix, json: prefix}, m)
}

func checkEncodableAt(c *checker, at fieldPath, m protoreflect.Message) {
	md := m.Descriptor()
	unwrap := isUnwrap(md)
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if !mayBeUnencodable(fd) || !m.Has(fd) {
			continue
		}
		path := at
		if !unwrap || at.proto == "" {
			path = at.child(fd)
		}
		v := m.Get(fd)
		switch {
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				checkEncodableValue(c, path.index(i), fd, l.Get(i))
			}
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				checkEncodableValue(c, path.key(k.String()), fd.MapValue(), mv)
				return true
			})
		default:
			checkEncodableValue(c, path, fd, v)
		}
	}
}

// mayBeUnencodable reports whether a value of fd can lack a JSON form:
// enums, floating-point numbers and messages, alone or in a list or map.
// Fields of other kinds are skipped without reading them.
func mayBeUnencodable(fd protoreflect.FieldDescriptor) bool {
	kind := fd.Kind()
	if fd.IsMap() {
		kind = fd.MapValue().Kind()
	}
	switch kind {
	case protoreflect.EnumKind, protoreflect.DoubleKind, protoreflect.FloatKind,
		protoreflect.MessageKind, protoreflect.GroupKind:
		return true
	}
	return false
}

// checkEncodableValue checks one singular value of the field fd.
func checkEncodableValue(c *checker, at fieldPath, fd protoreflect.FieldDescriptor, v protoreflect.Value) {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		checkEnumValue(c, at, fd.Enum(), v.Enum())
	case protoreflect.DoubleKind, protoreflect.FloatKind:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			c.add(violation{
				field:       at.proto,
				description: fmt.Sprintf("%s is %v; JSON has no form for it, so send a finite number", at.proto, f),
				reason:      reasonInvalidField,
				message:     fmt.Sprintf("%s must be a finite number, got %v", at.json, f),
			})
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		msg := v.Message()
		if msg.Descriptor().FullName() == timestampName {
			checkTimestamp(c, at, msg)
			return
		}
		checkEncodableAt(c, at, msg)
	}
}

// checkEnumValue requires an enum number that has a wire value.
func checkEnumValue(c *checker, at fieldPath, ed protoreflect.EnumDescriptor, n protoreflect.EnumNumber) {
	if ev := ed.Values().ByNumber(n); ev != nil && wireValue(ev) != "" {
		return
	}
	allowed := wireValues(ed)
	c.add(violation{
		field: at.proto,
		description: fmt.Sprintf("%s is %s number %d, which has no upstream value; use one of %s",
			at.proto, ed.Name(), n, strings.Join(allowed, ", ")),
		reason:  reasonInvalidField,
		message: fmt.Sprintf("%s must be one of: %s", at.json, strings.Join(allowed, ", ")),
	})
}

// checkTimestamp requires a timestamp that RFC 3339 can write.
func checkTimestamp(c *checker, at fieldPath, m protoreflect.Message) {
	ts, ok := m.Interface().(*timestamppb.Timestamp)
	if !ok || ts.CheckValid() == nil {
		return
	}
	c.add(violation{
		field:       at.proto,
		description: fmt.Sprintf("%s is not a valid time; use a time from year 0001 to 9999", at.proto),
		reason:      reasonInvalidField,
		message:     fmt.Sprintf("%s must be a timestamp between years 0001 and 9999", at.json),
	})
}

// wireValue returns the upstream string of an enum value, "" for none.
func wireValue(ev protoreflect.EnumValueDescriptor) string {
	s, _ := proto.GetExtension(ev.Options(), groundcamv1.E_WireValue).(string)
	return s
}

// wireValues lists the upstream strings of an enum, in declaration order.
func wireValues(ed protoreflect.EnumDescriptor) []string {
	var out []string
	values := ed.Values()
	for i := range values.Len() {
		if s := wireValue(values.Get(i)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// isUnwrap reports whether messages of md are single JSON values.
func isUnwrap(md protoreflect.MessageDescriptor) bool {
	on, _ := proto.GetExtension(md.Options(), groundcamv1.E_Unwrap).(bool)
	return on
}
