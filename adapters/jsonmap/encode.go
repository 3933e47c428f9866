package jsonmap

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// maxDepth is the maximum nesting of JSON objects and arrays that the codec
// reads or writes. Encoding stops at the same depth, so whatever decodes can
// be encoded again.
const maxDepth = 64

// encoder writes messages as JSON into a byte slice.
type encoder struct {
	omit  func(protoreflect.FieldDescriptor) bool
	depth int
}

func (e *encoder) enter() error {
	e.depth++
	if e.depth > maxDepth {
		return fmt.Errorf("message nests deeper than %d JSON objects and arrays", maxDepth)
	}
	return nil
}

// message appends the JSON value of m according to its plan.
func (e *encoder) message(b []byte, p *messagePlan, m protoreflect.Message) ([]byte, error) {
	if p.err != nil {
		return b, p.err
	}
	switch p.shape {
	case shapeUnwrap:
		return e.unwrap(b, p, m)
	case shapeTimestamp:
		return appendTimestampMessage(b, m)
	case shapeStruct:
		return e.structObject(b, m)
	case shapeValue:
		return e.dynamicValue(b, m)
	case shapeListValue:
		return e.listValue(b, m)
	case shapeWrapper:
		return e.singular(b, p.single.value, m.Get(p.single.fd))
	}
	if err := e.enter(); err != nil {
		return b, err
	}
	b = append(b, '{')
	b, _, err := e.members(b, p, m, false)
	if err != nil {
		return b, err
	}
	e.depth--
	return append(b, '}'), nil
}

// members appends the key-value pairs of m's fields, merging inline fields
// into the same object. comma reports whether a pair was already written.
func (e *encoder) members(
	b []byte,
	p *messagePlan,
	m protoreflect.Message,
	comma bool,
) ([]byte, bool, error) {
	for _, f := range p.fields {
		if e.omit != nil && e.omit(f.fd) {
			continue
		}
		var err error
		if f.inline {
			if m.Has(f.fd) {
				b, comma, err = e.members(b, f.value.msg, m.Get(f.fd).Message(), comma)
				if err != nil {
					return b, comma, err
				}
			}
			continue
		}
		write, null := f.decide(m)
		if !write {
			continue
		}
		if comma {
			b = append(b, ',')
		}
		comma = true
		b = append(b, f.key...)
		if null {
			b = append(b, "null"...)
			continue
		}
		if b, err = e.field(b, f, m.Get(f.fd)); err != nil {
			return b, comma, fmt.Errorf("field %s: %w", f.fd.FullName(), err)
		}
	}
	return b, comma, nil
}

// decide reports whether a field is written and whether it is written as
// null. Lists and maps are always written. Enums at zero and unset fields
// with presence are left out, or written as null when the field is nullable.
func (f *fieldPlan) decide(m protoreflect.Message) (write, null bool) {
	fd := f.fd
	switch {
	case fd.IsList() || fd.IsMap():
		return true, false
	case fd.Kind() == protoreflect.EnumKind:
		if m.Get(fd).Enum() == 0 {
			return f.nullable, true
		}
		return true, false
	case fd.HasPresence() && !m.Has(fd):
		return f.nullable, true
	}
	return true, false
}

// field appends the value of a field: an array, an object or one value.
func (e *encoder) field(b []byte, f *fieldPlan, v protoreflect.Value) ([]byte, error) {
	switch {
	case f.fd.IsList():
		return e.list(b, f.value, v.List())
	case f.fd.IsMap():
		return e.mapObject(b, f.value, v.Map())
	}
	return e.singular(b, f.value, v)
}

func (e *encoder) list(b []byte, vp valuePlan, l protoreflect.List) ([]byte, error) {
	if err := e.enter(); err != nil {
		return b, err
	}
	b = append(b, '[')
	for i := range l.Len() {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = e.singular(b, vp, l.Get(i)); err != nil {
			return b, fmt.Errorf("item %d: %w", i, err)
		}
	}
	e.depth--
	return append(b, ']'), nil
}

// mapObject appends a map as a JSON object with its keys in sorted order, so
// that equal maps give equal bytes.
func (e *encoder) mapObject(b []byte, vp valuePlan, mp protoreflect.Map) ([]byte, error) {
	if err := e.enter(); err != nil {
		return b, err
	}
	keys := sortedMapKeys(mp)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k.String())
		b = append(b, ':')
		var err error
		if b, err = e.singular(b, vp, mp.Get(k)); err != nil {
			return b, fmt.Errorf("key %s: %w", quoteValue(k.String()), err)
		}
	}
	e.depth--
	return append(b, '}'), nil
}

func sortedMapKeys(mp protoreflect.Map) []protoreflect.MapKey {
	keys := make([]protoreflect.MapKey, 0, mp.Len())
	mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	slices.SortFunc(keys, func(a, b protoreflect.MapKey) int {
		return strings.Compare(a.String(), b.String())
	})
	return keys
}

// singular appends one value of the given kind.
func (e *encoder) singular(b []byte, vp valuePlan, v protoreflect.Value) ([]byte, error) {
	switch vp.kind {
	case protoreflect.BoolKind:
		return strconv.AppendBool(b, v.Bool()), nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return strconv.AppendInt(b, v.Int(), 10), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return strconv.AppendUint(b, v.Uint(), 10), nil
	case protoreflect.FloatKind:
		return appendFloat(b, v.Float(), 32)
	case protoreflect.DoubleKind:
		return appendFloat(b, v.Float(), 64)
	case protoreflect.StringKind:
		return appendString(b, v.String()), nil
	case protoreflect.BytesKind:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, v.Bytes())
		return append(b, '"'), nil
	case protoreflect.EnumKind:
		quoted, ok := vp.enum.quoted[v.Enum()]
		if !ok {
			return b, fmt.Errorf("enum %s has no wire_value for number %d",
				vp.enum.fullName, v.Enum())
		}
		return append(b, quoted...), nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return e.message(b, vp.msg, v.Message())
	}
	return b, fmt.Errorf("unsupported field kind %s", vp.kind)
}

// unwrap appends an unwrap message as the value of its only field or of the
// set member of its oneof, or null when nothing is set.
func (e *encoder) unwrap(b []byte, p *messagePlan, m protoreflect.Message) ([]byte, error) {
	f := p.single
	if f == nil {
		f = p.setMember(m)
		if f == nil {
			return append(b, "null"...), nil
		}
	}
	if write, null := f.decide(m); !write || null {
		return append(b, "null"...), nil
	}
	b, err := e.field(b, f, m.Get(f.fd))
	if err != nil {
		return b, fmt.Errorf("field %s: %w", f.fd.FullName(), err)
	}
	return b, nil
}

// setMember returns the plan of the set member of an unwrap oneof, or nil.
func (p *messagePlan) setMember(m protoreflect.Message) *fieldPlan {
	fd := m.WhichOneof(p.members[0].fd.ContainingOneof())
	if fd == nil {
		return nil
	}
	for _, f := range p.members {
		if f.fd == fd {
			return f
		}
	}
	return nil
}
