package jsonmap

import (
	"encoding/base64"
	"fmt"
	"net/url"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// QueryOptions configures [QueryOptions.Encode] and [QueryOptions.Decode].
type QueryOptions struct {
	// Omit reports fields that are not query parameters, such as the fields
	// bound to the URL path. Encode leaves them out and Decode rejects them
	// as unknown parameters. Nil omits nothing.
	Omit func(protoreflect.FieldDescriptor) bool
}

// EncodeQuery returns the query parameters of m, leaving out the fields for
// which omit returns true. See [QueryOptions.Encode].
func EncodeQuery(m proto.Message, omit func(protoreflect.FieldDescriptor) bool) (url.Values, error) {
	return QueryOptions{Omit: omit}.Encode(m)
}

// DecodeQuery sets the fields of m from query parameters. See
// [QueryOptions.Decode].
func DecodeQuery(values url.Values, m proto.Message) error {
	return QueryOptions{}.Decode(values, m)
}

// Encode returns one query parameter per set field of m, named by its JSON
// name: booleans as true or false, numbers in decimal, enums by wire_value
// and timestamps in RFC 3339 UTC with milliseconds. Fields without presence
// count as set when they are not zero or empty. A list gives the
// parameter once per item, a map one parameter NAME.KEY per entry (such as
// metadata.department=support) and a nested message one parameter
// NAME.FIELD per field. Fields of (inline) messages keep their own names.
func (o QueryOptions) Encode(m proto.Message) (url.Values, error) {
	rm := m.ProtoReflect()
	q := queryEncoder{values: url.Values{}, omit: o.Omit}
	if err := q.object("", planFor(rm.Descriptor()), rm); err != nil {
		return nil, fmt.Errorf("encode query of %s: %w", rm.Descriptor().FullName(), err)
	}
	return q.values, nil
}

// queryEncoder collects the query parameters of a message.
type queryEncoder struct {
	values url.Values
	omit   func(protoreflect.FieldDescriptor) bool
}

func (q *queryEncoder) object(prefix string, p *messagePlan, m protoreflect.Message) error {
	if p.err != nil {
		return p.err
	}
	if p.shape != shapeObject {
		return fmt.Errorf("%s has no query string form", p.desc.FullName())
	}
	for _, f := range p.fields {
		if q.omit != nil && q.omit(f.fd) {
			continue
		}
		if f.inline {
			if m.Has(f.fd) {
				if err := q.object(prefix, f.value.msg, m.Get(f.fd).Message()); err != nil {
					return err
				}
			}
			continue
		}
		if err := q.field(prefix+f.name, f, m); err != nil {
			return fmt.Errorf("field %s: %w", f.fd.FullName(), err)
		}
	}
	return nil
}

// field adds the parameters of one field. Enums at zero and unset fields add
// none.
func (q *queryEncoder) field(name string, f *fieldPlan, m protoreflect.Message) error {
	if !m.Has(f.fd) {
		return nil
	}
	v := m.Get(f.fd)
	switch {
	case f.fd.IsList():
		l := v.List()
		for i := range l.Len() {
			if err := q.value(name, f.value, l.Get(i)); err != nil {
				return err
			}
		}
	case f.fd.IsMap():
		mp := v.Map()
		for _, k := range sortedMapKeys(mp) {
			if err := q.value(name+"."+k.String(), f.value, mp.Get(k)); err != nil {
				return err
			}
		}
	default:
		return q.value(name, f.value, v)
	}
	return nil
}

// value adds the parameters of one value: one for a scalar, none or more for
// a message.
func (q *queryEncoder) value(name string, vp valuePlan, v protoreflect.Value) error {
	if vp.msg == nil {
		text, err := scalarText(vp, v)
		if err != nil {
			return err
		}
		q.values.Add(name, text)
		return nil
	}
	p, m := vp.msg, v.Message()
	if p.err != nil {
		return p.err
	}
	switch p.shape {
	case shapeObject:
		return q.object(name+".", p, m)
	case shapeTimestamp:
		b, err := appendTimestampMessage(nil, m)
		if err != nil {
			return err
		}
		q.values.Add(name, string(b[1:len(b)-1]))
		return nil
	case shapeWrapper:
		return q.value(name, p.single.value, m.Get(p.single.fd))
	case shapeUnwrap:
		f := p.single
		if f == nil {
			f = p.setMember(m)
		}
		if f == nil {
			return nil
		}
		return q.field(name, f, m)
	}
	return fmt.Errorf("%s has no query string form", p.desc.FullName())
}

// scalarText formats a scalar or enum value as a query parameter value.
func scalarText(vp valuePlan, v protoreflect.Value) (string, error) {
	switch vp.kind {
	case protoreflect.StringKind:
		return v.String(), nil
	case protoreflect.BytesKind:
		return base64.StdEncoding.EncodeToString(v.Bytes()), nil
	case protoreflect.EnumKind:
		name, ok := vp.enum.names[v.Enum()]
		if !ok {
			return "", fmt.Errorf("enum %s has no wire_value for number %d",
				vp.enum.fullName, v.Enum())
		}
		return name, nil
	}
	var e encoder
	b, err := e.singular(nil, vp, v)
	return string(b), err
}
