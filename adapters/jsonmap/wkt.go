package jsonmap

import (
	"fmt"
	"strconv"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Field numbers of the well-known types, from google/protobuf/timestamp.proto
// and google/protobuf/struct.proto.
const (
	timestampSeconds protoreflect.FieldNumber = 1
	timestampNanos   protoreflect.FieldNumber = 2

	structFields protoreflect.FieldNumber = 1

	valueNull   protoreflect.FieldNumber = 1
	valueNumber protoreflect.FieldNumber = 2
	valueString protoreflect.FieldNumber = 3
	valueBool   protoreflect.FieldNumber = 4
	valueStruct protoreflect.FieldNumber = 5
	valueList   protoreflect.FieldNumber = 6

	listValues protoreflect.FieldNumber = 1
)

func fieldOf(m protoreflect.Message, n protoreflect.FieldNumber) protoreflect.FieldDescriptor {
	return m.Descriptor().Fields().ByNumber(n)
}

func appendTimestampMessage(b []byte, m protoreflect.Message) ([]byte, error) {
	seconds := m.Get(fieldOf(m, timestampSeconds)).Int()
	nanos := m.Get(fieldOf(m, timestampNanos)).Int()
	return appendTimestamp(b, seconds, int32(nanos))
}

// structObject appends a google.protobuf.Struct as a JSON object with sorted
// keys.
func (e *encoder) structObject(b []byte, m protoreflect.Message) ([]byte, error) {
	if err := e.enter(); err != nil {
		return b, err
	}
	mp := m.Get(fieldOf(m, structFields)).Map()
	b = append(b, '{')
	for i, k := range sortedMapKeys(mp) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k.String())
		b = append(b, ':')
		var err error
		if b, err = e.dynamicValue(b, mp.Get(k).Message()); err != nil {
			return b, fmt.Errorf("key %s: %w", quoteValue(k.String()), err)
		}
	}
	e.depth--
	return append(b, '}'), nil
}

// dynamicValue appends a google.protobuf.Value. A Value with no kind set is
// written as null.
func (e *encoder) dynamicValue(b []byte, m protoreflect.Message) ([]byte, error) {
	fd := m.WhichOneof(m.Descriptor().Oneofs().Get(0))
	if fd == nil {
		return append(b, "null"...), nil
	}
	v := m.Get(fd)
	switch fd.Number() {
	case valueNumber:
		return appendFloat(b, v.Float(), 64)
	case valueString:
		return appendString(b, v.String()), nil
	case valueBool:
		return strconv.AppendBool(b, v.Bool()), nil
	case valueStruct:
		return e.structObject(b, v.Message())
	case valueList:
		return e.listValue(b, v.Message())
	}
	return append(b, "null"...), nil
}

// listValue appends a google.protobuf.ListValue as a JSON array.
func (e *encoder) listValue(b []byte, m protoreflect.Message) ([]byte, error) {
	if err := e.enter(); err != nil {
		return b, err
	}
	l := m.Get(fieldOf(m, listValues)).List()
	b = append(b, '[')
	for i := range l.Len() {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = e.dynamicValue(b, l.Get(i).Message()); err != nil {
			return b, fmt.Errorf("item %d: %w", i, err)
		}
	}
	e.depth--
	return append(b, ']'), nil
}

// timestamp reads an RFC 3339 string with any offset into a
// google.protobuf.Timestamp.
func (d *decoder) timestamp(m protoreflect.Message) error {
	if _, err := d.peek(); err != nil {
		return err
	}
	start := d.pos
	text, err := d.readString()
	if err != nil {
		return err
	}
	seconds, nanos, ok := parseTimestamp(text)
	if !ok {
		d.pos = start
		return d.errorf("invalid timestamp %s: use RFC 3339 such as 2026-02-14T10:30:00.000Z",
			quoteValue(text))
	}
	m.Set(fieldOf(m, timestampSeconds), protoreflect.ValueOfInt64(seconds))
	m.Set(fieldOf(m, timestampNanos), protoreflect.ValueOfInt32(nanos))
	return nil
}

// structObject reads any JSON object into a google.protobuf.Struct.
func (d *decoder) structObject(m protoreflect.Message) error {
	c, err := d.peek()
	if err != nil {
		return err
	}
	if c != '{' {
		return d.typeError("an object")
	}
	if err := d.enter(); err != nil {
		return err
	}
	if done, err := d.empty('}'); done || err != nil {
		return err
	}
	mp := m.Mutable(fieldOf(m, structFields)).Map()
	for more := true; more; {
		if err := d.structEntry(mp); err != nil {
			return err
		}
		if more, err = d.next('}'); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) structEntry(mp protoreflect.Map) error {
	keyStart := d.pos
	key, err := d.readString()
	if err != nil {
		return err
	}
	k := protoreflect.ValueOfString(key).MapKey()
	if mp.Has(k) {
		d.pos = keyStart
		return d.errorf("duplicate key %s", quoteValue(key))
	}
	if err := d.consume(':', "':' after the key"); err != nil {
		return err
	}
	d.pushKey(key)
	v := mp.NewValue()
	if err := d.dynamicValue(v.Message()); err != nil {
		return err
	}
	mp.Set(k, v)
	d.pop()
	return nil
}

// dynamicValue reads any JSON value, null included, into a
// google.protobuf.Value.
func (d *decoder) dynamicValue(m protoreflect.Message) error {
	c, err := d.peek()
	if err != nil {
		return err
	}
	switch c {
	case 'n':
		if err := d.literal("null"); err != nil {
			return err
		}
		setNullValue(m)
	case '"':
		s, err := d.readString()
		if err != nil {
			return err
		}
		m.Set(fieldOf(m, valueString), protoreflect.ValueOfString(s))
	case 't', 'f':
		b, err := d.readBool()
		if err != nil {
			return err
		}
		m.Set(fieldOf(m, valueBool), protoreflect.ValueOfBool(b))
	case '{':
		return d.structObject(m.Mutable(fieldOf(m, valueStruct)).Message())
	case '[':
		return d.listValue(m.Mutable(fieldOf(m, valueList)).Message())
	default:
		return d.dynamicNumber(m)
	}
	return nil
}

func (d *decoder) dynamicNumber(m protoreflect.Message) error {
	c, err := d.peek()
	if err != nil {
		return err
	}
	if c != '-' && (c < '0' || c > '9') {
		return d.typeError("a JSON value")
	}
	start := d.pos
	tok, err := d.readNumber()
	if err != nil {
		return err
	}
	f, reason := parseFloat(string(tok), 64)
	if reason != "" {
		d.pos = start
		return d.errorf("%s", reason)
	}
	m.Set(fieldOf(m, valueNumber), protoreflect.ValueOfFloat64(f))
	return nil
}

// listValue reads any JSON array into a google.protobuf.ListValue.
func (d *decoder) listValue(m protoreflect.Message) error {
	c, err := d.peek()
	if err != nil {
		return err
	}
	if c != '[' {
		return d.typeError("an array")
	}
	if err := d.enter(); err != nil {
		return err
	}
	if done, err := d.empty(']'); done || err != nil {
		return err
	}
	l := m.Mutable(fieldOf(m, listValues)).List()
	for i, more := 0, true; more; i++ {
		d.pushIndex(i)
		v := l.NewElement()
		if err := d.dynamicValue(v.Message()); err != nil {
			return err
		}
		l.Append(v)
		d.pop()
		if more, err = d.next(']'); err != nil {
			return err
		}
	}
	return nil
}

func setNullValue(m protoreflect.Message) {
	m.Set(fieldOf(m, valueNull), protoreflect.ValueOfEnum(0))
}
