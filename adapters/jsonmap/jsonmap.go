// Package jsonmap converts proto messages to and from the JSON of the
// upstream GroundCam REST API. The mapping comes from the message
// descriptors and the options declared in groundcam/v1/options.proto:
//
//   - Keys are the proto JSON names (protoreflect.FieldDescriptor.JSONName).
//   - Enums are their (wire_value) strings. The zero value is absent: left
//     out, or null when the field is (nullable).
//   - A field with presence (optional scalar, message, oneof member) is
//     written only when set, and an unset (nullable) field is written as null.
//     Fields without presence (plain scalars, lists, maps) are always
//     written, lists and maps as [] and {} when empty.
//   - Integers and floating-point numbers are JSON numbers. Doubles are
//     written in their shortest form, 1548 rather than 1548.0.
//   - google.protobuf.Timestamp is an RFC 3339 string in UTC with
//     milliseconds, such as 2026-02-14T10:30:00.000Z, and any RFC 3339
//     offset is read. Struct, Value and ListValue are plain JSON, and the wrapper
//     types are their wrapped value.
//   - An (unwrap) message is one JSON value: the value of its only field or
//     of the set member of its only oneof, and null when nothing is set.
//   - The fields of an (inline) message field sit in the enclosing object.
//   - (http_header) fields are never in a JSON body or a query string.
//   - Map keys are written in sorted order, so equal messages give equal
//     bytes.
//
// The layout of each message type is computed once and cached, so every
// function here is safe for concurrent use.
package jsonmap

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// MarshalOptions configures [MarshalOptions.Marshal]. The zero value writes
// every field.
type MarshalOptions struct {
	// Omit reports fields to leave out, such as the fields of a request that
	// travel in the URL path rather than in the body. It is called for the
	// fields of nested messages too. Nil leaves out nothing.
	Omit func(protoreflect.FieldDescriptor) bool
}

// Marshal returns the JSON of m with the default options.
func Marshal(m proto.Message) ([]byte, error) {
	return MarshalOptions{}.Marshal(m)
}

// Marshal returns the JSON of m.
func (o MarshalOptions) Marshal(m proto.Message) ([]byte, error) {
	return o.AppendMarshal(nil, m)
}

// AppendMarshal appends the JSON of m to b and returns the extended slice.
// On error the returned slice holds b and possibly part of the JSON.
func (o MarshalOptions) AppendMarshal(b []byte, m proto.Message) ([]byte, error) {
	rm := m.ProtoReflect()
	e := encoder{omit: o.Omit}
	b, err := e.message(b, planFor(rm.Descriptor()), rm)
	if err != nil {
		return b, fmt.Errorf("marshal %s: %w", rm.Descriptor().FullName(), err)
	}
	return b, nil
}

// MarshalField returns the JSON value of one field of m, such as the field
// that the HTTP rule's response_body names. An unset field with presence
// gives null, and an (inline) field gives the object of its message.
func (o MarshalOptions) MarshalField(m proto.Message, fd protoreflect.FieldDescriptor) ([]byte, error) {
	rm := m.ProtoReflect()
	f, err := fieldPlanOf(rm, fd)
	if err != nil {
		return nil, err
	}
	e := encoder{omit: o.Omit}
	var b []byte
	if write, null := f.decide(rm); !write || null {
		return append(b, "null"...), nil
	}
	if f.inline {
		b, err = e.message(b, f.value.msg, rm.Get(fd).Message())
	} else {
		b, err = e.field(b, f, rm.Get(fd))
	}
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", fd.FullName(), err)
	}
	return b, nil
}

// errNilMessage is returned when the message to decode into is a nil
// pointer, which cannot be filled.
var errNilMessage = errors.New("cannot decode into a nil message: pass a pointer to an empty message")

// UnmarshalOptions configures [UnmarshalOptions.Unmarshal]. The zero value
// ignores unknown keys, so that fields the upstream adds later do not break
// decoding.
type UnmarshalOptions struct {
	// Strict rejects object keys that match no field, naming the key.
	Strict bool
}

// Unmarshal reads JSON into m with the default options.
func Unmarshal(data []byte, m proto.Message) error {
	return UnmarshalOptions{}.Unmarshal(data, m)
}

// Unmarshal resets m and reads the JSON in data into it. Input errors are
// of type *[SyntaxError]. JSON null leaves a field unset, except that a
// google.protobuf.Value field becomes a null value and an (unwrap) field
// whose inner field tracks presence becomes a set, empty message, so that
// absent, null and a value stay three different states.
func (o UnmarshalOptions) Unmarshal(data []byte, m proto.Message) error {
	rm := m.ProtoReflect()
	if !rm.IsValid() {
		return errNilMessage
	}
	proto.Reset(m)
	d := newDecoder(data, o.Strict)
	return d.top(planFor(rm.Descriptor()), rm)
}

// UnmarshalField clears one field of m and reads the JSON value in data into
// it, such as the upstream's data value for the field that the HTTP rule's
// response_body names. For an (inline) field, data is its message's object.
func (o UnmarshalOptions) UnmarshalField(
	data []byte,
	m proto.Message,
	fd protoreflect.FieldDescriptor,
) error {
	rm := m.ProtoReflect()
	if !rm.IsValid() {
		return errNilMessage
	}
	f, err := fieldPlanOf(rm, fd)
	if err != nil {
		return err
	}
	rm.Clear(fd)
	d := newDecoder(data, o.Strict)
	if f.inline {
		f = &fieldPlan{fd: f.fd, name: f.name, value: f.value}
	}
	if err := d.field(f, rm); err != nil {
		return err
	}
	return d.finish()
}

// fieldPlanOf returns the plan of field fd of m.
func fieldPlanOf(m protoreflect.Message, fd protoreflect.FieldDescriptor) (*fieldPlan, error) {
	p := planFor(m.Descriptor())
	if p.err != nil {
		return nil, p.err
	}
	if fd.ContainingMessage() != m.Descriptor() {
		return nil, fmt.Errorf("field %s does not belong to %s",
			fd.FullName(), m.Descriptor().FullName())
	}
	for _, f := range p.fields {
		if f.fd == fd {
			return f, nil
		}
	}
	return nil, fmt.Errorf("field %s is an http_header field and has no JSON form", fd.FullName())
}
